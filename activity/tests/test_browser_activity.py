"""The activity page in a real Chromium: on a phone (390 px) every entry is a card showing all
six columns' values under their names, with no sideways scroll; the shortened Client ID copies
in full."""

from datetime import timedelta

import pytest
from django.utils import timezone

from activity.models import Action, ActivityEntry
from portal.tests.test_accessibility import _axe, _login, describe

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


@pytest.fixture
def many_keys(acme):
    """30 keys in the log, one of them deleted, for the search to suggest from."""
    now = timezone.now()
    ActivityEntry.objects.bulk_create(
        ActivityEntry(
            tenant=acme,
            action=Action.KEY_DELETED if n == 7 else Action.KEY_CREATED,
            actor_email="alice@example.com",
            key_name=f"Shop {n:02}" if n % 2 else f"ERP {n:02}",
            key_client_id=f"client{n:02}".ljust(32, "x"),
            created_at=now - timedelta(minutes=n),
        )
        for n in range(30)
    )


@pytest.mark.parametrize("width", [1280, 390])
def test_the_key_search_suggests_keys_from_the_server_and_filters(browser, site, alice, many_keys, width):
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)  # to inject axe
    context.set_default_timeout(10_000)
    try:
        _search(_login(context, site.url, alice.email), site, width)
    finally:
        context.close()


def _search(page, site, width: int) -> None:
    page.goto(f"{site.url}/tenants/acme/activity/")
    search = page.get_by_role("combobox", name="Key")  # a text field with a list of suggestions
    assert search.get_attribute("type") == "search"
    report = describe(f"{width}px activity", _axe(page))
    with page.expect_response(lambda response: "keys.json?q=shop+0" in response.url.replace("%20", "+")):
        search.fill("shop 0")
    options = page.locator("#id_key_suggestions option")
    options.first.wait_for(state="attached")
    assert options.count() == 5  # Shop 01, 03, 05, 07, 09
    labels = [options.nth(i).get_attribute("label") for i in range(options.count())]
    assert labels == ["Shop 01", "Shop 03", "Shop 05", "Shop 07 (deleted)", "Shop 09"]
    assert options.first.get_attribute("value") == "client01".ljust(32, "x")
    search.fill(options.nth(3).get_attribute("value"))  # what choosing a suggestion does
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/activity/?key=client07*")
    assert page.locator("#activity-count").inner_text() == "1 entry."
    assert "Key deleted" in page.locator(".activity-table tbody").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    report += describe(f"{width}px activity, searched by key", _axe(page))
    assert not report, "\n".join(report)


def test_without_javascript_the_key_search_filters_on_submit(browser, site, alice, many_keys):
    from conftest import PASSWORD

    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{site.url}/accounts/login/")
        page.fill("input[name=username]", alice.email)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{site.url}/tenants/acme/activity/")
        assert page.locator("datalist").count() == 0
        page.get_by_label("Key").fill("erp 1")
        page.get_by_role("button", name="Filter").click()
        assert page.locator("#activity-count").inner_text() == "5 entries."  # ERP 10, 12, 14, 16, 18
    finally:
        context.close()
