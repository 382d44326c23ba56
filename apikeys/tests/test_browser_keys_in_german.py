"""The keys pages in German in a real Chromium (issue 23): the scripts speak through Django's
JavaScript catalog, so copying a Client ID says "Kopiert" on the button and "Client-ID kopiert"
to screen readers, on a page that says it is German; and the longer German words still fit a
390 px phone."""

from datetime import timedelta

import pytest

from apikeys.models import KeyKind
from apikeys.services import key_create, key_renew
from conftest import browser_login
from portal.tests.test_accessibility import _axe, describe
from portal.tests.test_browser_phone import CULPRITS
from scopes.models import Scope

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDTH = 390


@pytest.fixture
def german_page(browser, site, settings):
    """A logged-in page for a German reader: the browser asks for German (Accept-Language, and
    the language cookie LocaleMiddleware reads), and the portal's default language is German,
    for as long as no middleware picks the language per request."""
    settings.LANGUAGE_CODE = "de"
    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "django_language", "value": "de", "url": site.url}])
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
    context.set_default_timeout(10_000)
    yield lambda user: browser_login(context.new_page(), site, user)
    context.close()


def test_copying_a_client_id_says_copied_in_german(german_page, site, alice, acme_secrets):
    key, _ = acme_secrets["emporix"]
    page = german_page(alice)
    page.goto(f"{site.url}/tenants/acme/api-keys/")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.get_by_role("heading", level=1).inner_text() == "API-Schlüssel verwalten"

    button = page.locator(f"#key-{key.public_id}").get_by_role("button", name="Client-ID von Emporix API kopieren")
    button.click()
    page.get_by_role("status").filter(has_text="Client-ID kopiert").wait_for()
    assert button.get_attribute("data-feedback") == "Kopiert"
    assert page.evaluate("navigator.clipboard.readText()") == key.client_id


def test_the_german_keys_pages_fit_a_390_px_phone_and_pass_axe(browser, site, settings, alice, acme_secrets):
    """German runs about a third longer than English: no keys page scrolls sideways at 390 px,
    and axe finds nothing (accessible names that contain the visible German words, lang="de")."""
    settings.LANGUAGE_CODE = "de"
    acme = acme_secrets[KeyKind.EMPORIX][0].tenant
    scopes = Scope.objects.filter(name__in=["tax.tax_read", "brand.brand_manage"])
    custom, _ = key_create(tenant=acme, kind=KeyKind.CUSTOM, name="Lagerabgleich für das EU-Lager", scopes=scopes)
    key_renew(key=acme_secrets[KeyKind.STOREFRONT][0], grace=timedelta(hours=24))
    emporix = acme_secrets[KeyKind.EMPORIX][0]
    context = browser.new_context(locale="de-DE", viewport={"width": WIDTH, "height": 844}, bypass_csp=True)
    context.add_cookies([{"name": "django_language", "value": "de", "url": site.url}])
    context.set_default_timeout(10_000)
    page = browser_login(context.new_page(), site, alice)
    keys = "/tenants/acme/api-keys/"
    too_wide, violations = [], []
    for path in [
        keys,
        f"{keys}?view=table",
        f"{keys}new/",
        f"{keys}{custom.public_id}/edit/",
        f"{keys}{emporix.public_id}/get-started/",
        f"{keys}{emporix.public_id}/renew/",
        f"{keys}{emporix.public_id}/settings/",
        f"{keys}{custom.public_id}/scopes/",
        f"{keys}{custom.public_id}/delete/",
        f"{keys}report-leak/",
        f"{keys}bulk/?action=disable&key={custom.public_id}&key={emporix.public_id}",
    ]:
        page.goto(site.url + path)
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == "de", path
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > WIDTH:
            too_wide.append(f"{path}: {width} px; sticking out: {', '.join(page.evaluate(CULPRITS, WIDTH))}")
        violations += describe(path, _axe(page))
    context.close()
    assert not too_wide, "\n".join(too_wide)
    assert not violations, "\n".join(violations)
