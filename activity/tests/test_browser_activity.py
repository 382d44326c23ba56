"""The activity page in a real Chromium: on a phone (390 px) every entry is a card showing all
six columns' values under their names, with no sideways scroll; the shortened Client ID copies
in full."""

from datetime import timedelta

import pytest
from django.utils import timezone

from activity.models import Action, ActivityEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CLIENT_ID = "abcdef" + "x" * 22 + "wxyz"


@pytest.fixture
def logged(acme):
    ActivityEntry.objects.bulk_create(
        ActivityEntry(
            tenant=acme,
            action=Action.KEY_CHANGED,
            actor_email="alice@example.com",
            key_name="Shop",
            key_client_id=CLIENT_ID,
            details={"scopes_added": ["tax.tax_read"]},
            ip_address="203.0.113.7",
            created_at=timezone.now() - timedelta(minutes=n),
        )
        for n in range(3)
    )


def test_on_a_phone_every_column_is_shown_labelled_without_sideways_scroll(page_for, site, alice, logged):
    page = page_for(alice)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{site.url}/tenants/acme/activity/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    row = page.locator(".activity-table tbody tr").first
    cells = row.locator("td")
    assert cells.count() == 6
    for index in range(6):
        box = cells.nth(index).bounding_box()
        assert cells.nth(index).is_visible() and box["x"] >= 0 and box["x"] + box["width"] <= 390
    labels = [cells.nth(i).evaluate("td => getComputedStyle(td, '::before').content") for i in range(6)]
    assert labels == ['"When"', '"Who"', '"What"', '"Key"', '"Details"', '"IP address"']
    text = row.inner_text()
    assert "Key changed" in text and "203.0.113.7" in text and "Scopes added: tax.tax_read" in text
    shown = row.locator("code span[aria-hidden=true]")
    assert shown.inner_text() == "abcdef…wxyz" and shown.bounding_box()["width"] < 130


def test_the_shortened_client_id_copies_in_full(page_for, site, alice, logged):
    page = page_for(alice)
    page.goto(f"{site.url}/tenants/acme/activity/")
    assert page.locator(".table-wrap").get_attribute("tabindex") == "0"
    page.get_by_role("button", name="Copy Client ID of Shop").first.click()
    page.locator("[data-live-region]", has_text="Client ID copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == CLIENT_ID
    assert page.locator("code[title]").first.get_attribute("title") == CLIENT_ID
