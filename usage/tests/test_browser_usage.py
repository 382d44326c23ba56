"""The usage pages in Chromium at 1280 and 390 px, light and dark: axe finds nothing, nothing
scrolls sideways, each chart has its table, and the numbers are the roll-ups'."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apikeys.models import KeyKind
from apikeys.services import key_create
from kernel import usage as counting
from portal.tests.test_accessibility import RUN_OPTIONS, _axe, describe  # noqa: F401
from scopes.models import Scope
from usage.models import LastUse

from .rollups import record

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def used_key(acme, catalogue):
    key, _ = key_create(
        tenant=acme,
        kind=KeyKind.CUSTOM,
        name="Storefront synchronisation for the EU warehouse",
        scopes=Scope.objects.filter(name__in=["price.price_manage", "tax.tax_read"]),
    )
    now = timezone.now()
    record(key, "POST-price-create-price", counting.ALLOWED, 40, now)
    record(key, "POST-price-create-price", counting.INSUFFICIENT_SCOPE, 6, now - timedelta(hours=2))
    record(key, "DELETE-price-remove-price", counting.ALLOWED, 9, now - timedelta(hours=5))
    record(key, counting.OPERATION_TOKEN, counting.ISSUED, 12, now - timedelta(hours=3))
    record(key, counting.OPERATION_TOKEN, counting.WRONG_SECRET, 3, now - timedelta(hours=7))
    record(key, counting.OPERATION_TOKEN, counting.NETWORK_REFUSED, 2, now - timedelta(hours=9))
    record(key, counting.OPERATION_TOKEN, counting.ISSUED, 30, now - timedelta(days=3))
    LastUse.objects.create(key=key, network="2001:db8:1::/48", at=now)
    return key


def _check(page, width: int, state: str, problems: list[str]) -> None:
    page.wait_for_load_state()
    problems += describe(f"{width}px {state}", _axe(page))
    scroll = page.evaluate("document.documentElement.scrollWidth")
    if scroll > width:
        problems.append(f"{width}px {state}: the page is {scroll} px wide")


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_usage_pages_are_accessible_and_fit(page_for, site, bob, used_key, width, scheme):
    page = page_for(bob, width=width, bypass_csp=True)  # a viewer; bypass_csp lets axe in
    page.emulate_media(color_scheme=scheme)
    problems: list[str] = []
    usage = f"{site.url}/tenants/acme/api-keys/{used_key.public_id}/usage/"

    page.goto(usage)
    _check(page, width, f"{scheme} key usage 24h", problems)
    caption = page.locator("#key-calls-caption").inner_text()
    assert caption.startswith(
        f"Calls of {used_key.name} per hour, by outcome: 72 calls in the last 24 hours, 61 succeeded, 11 failed."
    )
    assert page.locator(".chart-legend li").all_inner_texts() == [
        "Token issued: 12",
        "Allowed: 49",
        "Wrong secret: 3",
        "Address outside the key's networks: 2",
        "Missing scope: 6",
    ]
    assert page.locator("svg.chart-svg rect.bar").count() == 6  # one per hour and outcome with calls
    # The table alternative: one row per hour, present in the page, shown on demand.
    table = page.locator("details.chart-table table")
    assert table.locator("tbody tr").count() == 24
    page.locator("details.chart-table summary").click()
    assert table.is_visible()
    _check(page, width, f"{scheme} key usage with its table open", problems)
    assert "2001:db8:1::/48" in page.locator("#last-use-heading + p").inner_text()

    page.goto(usage + "?range=30d")
    _check(page, width, f"{scheme} key usage 30d", problems)
    assert "102 calls in the last 30 days" in page.locator("#key-calls-caption").inner_text()
    page.goto(usage + "?range=forever")
    _check(page, width, f"{scheme} key usage, bad range", problems)
    assert "Choose a range of 24h, 7d or 30d." in page.content()

    page.goto(f"{site.url}/tenants/acme/usage/?range=7d")
    _check(page, width, f"{scheme} tenant overview", problems)
    assert page.locator("[data-figure=calls]").inner_text() == "102"
    assert page.locator("[data-figure=success-rate]").inner_text() == "89.2 %"  # 91 of 102
    assert page.locator("details.chart-table table tbody tr").count() == 28
    assert used_key.name in page.locator("#busiest-caption + thead + tbody").inner_text()

    page.goto(f"{site.url}/tenants/acme/api-keys/")
    _check(page, width, f"{scheme} keys page with its calls", problems)
    assert page.locator(f"#key-{used_key.public_id} .spark-total").inner_text() == "72"
    assert problems == [], "\n" + "\n".join(problems)
