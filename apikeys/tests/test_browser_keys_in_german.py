"""The keys page in German in a real Chromium (issue 23): the scripts speak through Django's
JavaScript catalog, so copying a Client ID says "Kopiert" on the button and "Client-ID kopiert"
to screen readers, on a page that says it is German."""

import pytest

from conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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
