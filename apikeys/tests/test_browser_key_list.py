"""Among many keys, in a real Chromium at a laptop's and a phone's width: a person finds a key
by searching, copies its Client ID, renews it from the row's menu and copies the new secret
from the message beside it; Get started opens in place."""

import re

import pytest

from apikeys.models import ApiSecret
from apikeys.services import key_create
from bench.key_list import add_custom_keys
from kernel import crypto
from scopes.models import Scope

CURL_COPY = re.compile(r"^Copy the cURL")
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def wanted(acme, catalogue):
    add_custom_keys(acme, 120)
    key, _ = key_create(tenant=acme, kind="custom", name="Payments webhook", scopes=Scope.objects.offered()[:3])
    return key


def _live_digests(key):
    return {bytes(s.digest) for s in ApiSecret.objects.filter(key=key).live()}


def _clipboard(page):
    return page.evaluate("navigator.clipboard.readText()")


def _no_sideways_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("width", [1280, 390])
def test_an_admin_finds_a_key_among_many_copies_its_client_id_and_renews_it(page_for, site, alice, wanted, width):
    page = page_for(alice)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{site.url}/tenants/acme/api-keys/")
    assert page.locator(".key-table tbody tr").count() == 20
    assert _no_sideways_scroll(page)

    # A plain GET form: Enter in the search box finds it.
    page.get_by_label("Search name or Client ID").fill("payments")
    page.keyboard.press("Enter")
    page.wait_for_url("**/api-keys/?q=payments&**#custom-keys")
    rows = page.locator(".key-table tbody tr")
    assert rows.count() == 1
    row = page.locator(f"#key-{wanted.public_id}")
    assert page.get_by_text("1–1 of 1 key found").is_visible()

    row.get_by_role("button", name="Copy Client ID of Payments webhook").click()
    page.get_by_role("status").filter(has_text="Client ID copied").wait_for()
    assert _clipboard(page) == wanted.client_id

    # The row's menu: Escape closes it and gives focus back to its button.
    menu = row.get_by_text("Actions")
    menu.click()
    assert row.get_by_role("link", name="Renew secret").is_visible()
    page.keyboard.press("Escape")
    assert not row.get_by_role("link", name="Renew secret").is_visible()
    menu.click()
    row.get_by_role("link", name="Renew secret").click()
    dialog = page.locator("#renew-dialog")
    assert dialog.evaluate("d => d.open") and dialog.get_by_label("After 24 hours").is_checked()
    assert _no_sideways_scroll(page)
    old = _live_digests(wanted)
    dialog.get_by_role("button", name="Renew secret", exact=True).click()

    # Back on the list at the message, beside the key, which has the focus and is in view.
    page.wait_for_url("**/api-keys/#key-notice")
    notice = page.locator("#key-notice")
    notice.get_by_text("Key renewed.").wait_for()
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'key-notice'")
    assert notice.is_visible() and notice.evaluate(
        "el => { const r = el.getBoundingClientRect(); return r.top >= -1 && r.bottom <= window.innerHeight + 1; }"
    )
    assert page.locator(f"#key-{wanted.public_id}").evaluate("el => el.closest('tbody').className") == "pinned"
    notice.get_by_role("button", name="Copy the new secret").click()
    page.get_by_role("status").filter(has_text="Secret copied").wait_for()
    new = _clipboard(page)
    assert crypto.is_well_formed_secret(new)
    assert _live_digests(wanted) == old | {crypto.digest(new)}  # the old one works for a day
    assert _no_sideways_scroll(page)


@pytest.mark.parametrize("width", [1280, 390])
def test_get_started_opens_in_place_and_its_link_still_is_a_page(page_for, site, dave, wanted, width):
    page = page_for(dave)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{site.url}/tenants/acme/api-keys/?q=payments")
    row = page.locator(f"#key-{wanted.public_id}")
    row.get_by_text("Actions").click()
    link = row.get_by_role("link", name="Get started")
    href = link.get_attribute("href")
    link.click()
    dialog = page.locator("#get-started-dialog")
    dialog.get_by_role("button", name=CURL_COPY).wait_for()
    assert dialog.evaluate("d => d.open") and "/get-started/" not in page.url
    assert "Get started with Payments webhook" in dialog.get_by_role("heading", level=2).first.inner_text()

    # Its scripts work in the dialog: Copy puts the real secret into the snippet.
    dialog.get_by_role("button", name=CURL_COPY).click()
    dialog.locator("#snippet-curl [data-copy-status]").filter(has_text="Copied").wait_for()
    assert f"client_id={wanted.client_id}" in _clipboard(page)
    assert "akps_" in _clipboard(page) and "akps_" not in page.content()
    assert _no_sideways_scroll(page)
    dialog.get_by_role("button", name="Close").click()
    assert not dialog.evaluate("d => d.open")
    # Focus goes back to what opened it (the row's menu); the browser may take a moment.
    row.get_by_text("Actions").evaluate(
        "el => new Promise((done, fail) => { const t0 = Date.now(); (function wait() {"
        " if (el === document.activeElement) done(true);"
        " else if (Date.now() - t0 > 5000) fail(new Error('focus did not return to the menu'));"
        " else setTimeout(wait, 20); })(); })"
    )

    # Without JavaScript the link is the page itself.
    page.goto(site.url + href)
    assert page.get_by_role("heading", level=1).inner_text() == "Get started with Payments webhook"
