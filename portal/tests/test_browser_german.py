"""The browser walk once in German at 390 px (issue 23): a browser that asks for German
(Accept-Language from the context's locale) gets every page with lang="de" on <html>, no page
scrolls sideways (German words are longer), and axe finds nothing. The language switch on the
login page changes the language for a visitor who is not signed in."""

import pytest

from apikeys.models import KeyKind
from apikeys.services import key_create
from conftest import PASSWORD
from portal.tests.test_accessibility import AXE, _axe, describe
from portal.tests.test_browser_phone import CULPRITS
from scopes.models import Scope
from webhooks.services import endpoint_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH = 390


@pytest.fixture
def german_cast(alice, acme_secrets, catalogue):
    tenant = acme_secrets[KeyKind.EMPORIX][0].tenant
    scopes = Scope.objects.filter(name__in=["tax.tax_read", "brand.brand_manage"])
    custom, _ = key_create(tenant=tenant, kind=KeyKind.CUSTOM, name="Lagersynchronisation EU", scopes=scopes)
    endpoint_create(tenant=tenant, url="https://hooks.example.com/portal", event_types=["key.created"])
    return {"emporix": acme_secrets[KeyKind.EMPORIX][0], "custom": custom}


def test_the_portal_in_german_at_390_px(browser, site, alice, german_cast):
    assert AXE.exists(), "axe-core is missing: run `npm ci` (make test does)"
    context = browser.new_context(
        viewport={"width": WIDTH, "height": 844},
        locale="de-DE",
        bypass_csp=True,  # bypass: to inject axe
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems: list[str] = []

    def check(what: str) -> None:
        page.wait_for_load_state()
        lang = page.evaluate("document.documentElement.lang")
        if lang != "de":
            problems.append(f"{what} ({page.url}): <html lang={lang!r}>")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > WIDTH:
            culprits = page.evaluate(CULPRITS, WIDTH)
            problems.append(f"{what} ({page.url}): {width} px wide; sticking out: {', '.join(culprits)}")
        problems.extend(describe(f"{WIDTH}px de {what}", _axe(page)))

    page.goto(f"{site.url}/accounts/login/")
    check("login")
    assert page.get_by_role("heading", level=1).inner_text() == "Anmelden"
    page.goto(f"{site.url}/accounts/password/reset/")
    check("password reset")
    page.goto(f"{site.url}/accounts/login/")
    page.fill("input[name=username]", alice.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Anmelden", exact=True).click()
    page.wait_for_load_state()

    keys = "/tenants/acme/api-keys/"
    emporix, custom = german_cast["emporix"], german_cast["custom"]
    for what, path in [
        ("tenant list", "/tenants/"),
        ("keys page", keys),
        ("keys table", f"{keys}?view=table"),
        ("get started", f"{keys}{emporix.public_id}/get-started/"),
        ("create key", f"{keys}new/"),
        ("key settings", f"{keys}{custom.public_id}/settings/"),
        ("members", "/tenants/acme/members/"),
        ("activity", "/tenants/acme/activity/"),
        ("webhooks", "/tenants/acme/webhooks/"),
        ("usage", "/tenants/acme/usage/"),
        ("access advisor", "/tenants/acme/access-advisor/"),
        ("sso settings", "/tenants/acme/sso/"),
        ("my account", "/accounts/"),
        ("change password", "/accounts/password/change/"),
        ("not found", "/tenants/acme/no-such-page/"),
    ]:
        page.goto(site.url + path)
        check(what)
    context.close()
    assert not problems, "\n".join(problems)


def test_the_language_switch_on_the_login_page(browser, site):
    context = browser.new_context(viewport={"width": WIDTH, "height": 844}, locale="en-US")
    page = context.new_page()
    page.goto(f"{site.url}/accounts/login/")
    assert page.evaluate("document.documentElement.lang") == "en"
    switch = page.get_by_role("form", name="Language")
    switch.get_by_role("button", name="Deutsch").click()
    page.wait_for_load_state()
    assert page.url.endswith("/accounts/login/")
    assert page.evaluate("document.documentElement.lang") == "de"
    assert page.get_by_role("heading", level=1).inner_text() == "Anmelden"
    page.get_by_role("form", name="Sprache").get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Log in"
    context.close()
