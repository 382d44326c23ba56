"""A key's rate limit in a real Chromium, at a laptop's and a phone's width, with and without
JavaScript: an admin sets a limit past its bound and reads the error beside the field, then a
good one, and finds it on the key's row and settings page with how often it was reached. axe
finds nothing on each state, and no page scrolls sideways."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apikeys.models import KeyKind
from apikeys.services import key_create
from kernel.usage import KEY_RATE_LIMITED, OPERATION_TOKEN
from portal.tests.test_accessibility import _axe, describe
from scopes.models import Scope
from usage.models import HourUsage, MinuteUsage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _clean(page, state, *, javascript):
    """No sideways scroll; and nothing axe finds, where it can run (it is JavaScript)."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), state
    if javascript:
        report = describe(state, _axe(page))
        assert not report, "\n".join(report)


@pytest.mark.parametrize(("width", "javascript"), [(1280, True), (390, True), (390, False)])
def test_an_admin_limits_a_key_and_sees_how_often_it_was_reached(page_for, site, alice, acme, width, javascript):
    key, _ = key_create(
        tenant=acme, kind=KeyKind.CUSTOM, name="Orders", scopes=Scope.objects.filter(name="tax.tax_read")
    )
    for table in (MinuteUsage, HourUsage):
        table.objects.create(
            bucket=timezone.now() - timedelta(minutes=10),
            tenant=acme,
            key=key,
            operation=OPERATION_TOKEN,
            outcome=KEY_RATE_LIMITED,
            calls=4,
        )
    page = page_for(alice, width=width, height=900, javascript=javascript, bypass_csp=True)
    page.goto(f"{site.url}/tenants/acme/api-keys/{key.public_id}/settings/")
    page.get_by_label("Rate limit (requests)").fill("20000")
    page.get_by_label("Rate limit period").select_option("second")
    page.get_by_role("button", name="Save settings").click()
    page.wait_for_load_state()
    # Beside the field, and in the summary above the form, linked to the field.
    expect(page.locator("#id_rate_limit_error")).to_have_text("A rate limit per second is at most 10,000 requests.")
    expect(page.get_by_role("link", name="Rate limit (requests): A rate limit per second")).to_be_visible()
    expect(page.get_by_label("Rate limit (requests)")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Rate limit (requests)")).to_have_value("20000")  # nothing typed is lost
    _clean(page, f"{width}px settings with a rate limit error", javascript=javascript)

    page.get_by_label("Rate limit (requests)").fill("20")
    page.get_by_role("button", name="Save settings").click()
    page.wait_for_load_state()
    row = page.locator(f"#key-{key.public_id}")
    expect(row.get_by_text("Rate limit: 20 requests per second")).to_be_visible()
    _clean(page, f"{width}px keys page with a rate limit", javascript=javascript)

    page.goto(f"{site.url}/tenants/acme/api-keys/{key.public_id}/settings/")
    expect(
        page.get_by_text("Rate limit: 20 requests per second, for token requests and for API calls each.")
    ).to_be_visible()
    expect(page.locator("#rate-limit-reached")).to_have_text(
        "Requests refused by its rate limit: 4 in the last 24 hours, 4 in the last 30 days."
    )
    expect(page.get_by_label("Rate limit period")).to_have_value("second")
    _clean(page, f"{width}px settings with a rate limit", javascript=javascript)
