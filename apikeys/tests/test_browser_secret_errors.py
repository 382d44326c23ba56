"""With JavaScript, a reveal or copy that does not work says why and what to do, as the pages
without JavaScript do, beside the secret (static/js/secret.js): too many secrets shown (when
to try again, from Retry-After), a page expired (reload), a role too low, two-factor
authentication required (set it up), a key gone (reload), the portal out of reach. Never a
bare "HTTP 403". Each state at 1280 and 390 px, axe clean, no sideways scroll on a phone."""

import re

import pytest
from playwright.sync_api import expect

from apikeys.models import ApiKey, KeyKind
from apikeys.services import key_create
from conftest import browser_login
from portal.tests.test_accessibility import _axe, describe
from scopes.models import Scope
from tenants.models import Membership, Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = [1280, 390]
KEYS = "/tenants/acme/api-keys/"


def _problem(page, key):
    return page.locator(f"#key-{key.public_id} [data-secret-problem]")


def _clean(page, state: str) -> None:
    violations = describe(state, _axe(page))
    assert violations == [], "\n".join(violations)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"{state}: sideways scroll"


def _page(browser, site, user, width: int):
    """A logged-in page on the keys page; bypass_csp to inject axe (the strict CSP refuses it)."""
    context = browser.new_context(viewport={"width": width, "height": 900 if width > 600 else 844}, bypass_csp=True)
    context.set_default_timeout(10_000)
    page = browser_login(context.new_page(), site, user)
    page.goto(site.url + KEYS)
    page.wait_for_load_state()
    return context, page


@pytest.mark.parametrize("width", WIDTHS)
def test_too_many_secrets_says_when_to_try_again(browser, site, dave, acme_secrets, settings, width):
    settings.SECRET_SHOW_LIMIT_PER_USER = 1
    # Windows are fixed and aligned to the clock (kernel.ratelimit): an hour's window makes it
    # unlikely that the two reveals fall either side of a boundary, and the wait may be anything
    # from one second to the whole window.
    settings.SECRET_SHOW_WINDOW = 3600
    key, _ = acme_secrets[KeyKind.EMPORIX]
    context, page = _page(browser, site, dave, width)
    row = page.locator(f"#key-{key.public_id}")
    row.get_by_role("button", name="Show secret of Emporix API").click()
    row.locator("[data-secret-value]").filter(has_text="akps_").wait_for()
    row.get_by_role("button", name="Hide secret of Emporix API").click()
    row.get_by_role("button", name="Show secret of Emporix API").click()
    problem = _problem(page, key)
    expect(problem).to_contain_text("Too many secrets shown: revealing and copying secrets is limited per user.")
    text = problem.inner_text()
    assert re.search(r"Try again in (1 second|1 minute|([2-9]|[1-9]\d+) (seconds|minutes))\.", text), text
    assert "HTTP" not in text and "(s)" not in text
    _clean(page, f"{width}px too many secrets")
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_an_expired_page_offers_a_reload(browser, site, dave, acme_secrets, settings, width):
    key, plaintext = acme_secrets[KeyKind.EMPORIX]
    context, page = _page(browser, site, dave, width)
    # The CSRF cookie changed since the page was served (a logout and login in another tab).
    cookie = next(c for c in context.cookies() if c["name"] == settings.CSRF_COOKIE_NAME)
    context.add_cookies([{**cookie, "value": "x" * 32}])
    row = page.locator(f"#key-{key.public_id}")
    row.get_by_role("button", name="Copy secret of Emporix API").click()
    problem = _problem(page, key)
    expect(problem).to_contain_text("This page has expired")
    expect(problem.get_by_role("link", name="Reload the page")).to_have_attribute("href", KEYS)
    assert "HTTP" not in problem.inner_text() and plaintext not in page.content()
    _clean(page, f"{width}px page expired")
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_role_taken_away_and_a_key_gone_are_explained(browser, site, alice, dave, acme_secrets, width):
    tenant = acme_secrets[KeyKind.EMPORIX][0].tenant
    custom = key_create(
        tenant=tenant, kind=KeyKind.CUSTOM, name="ERP orders", scopes=list(Scope.objects.filter(name="tax.tax_read"))
    )[0]
    emporix, _ = acme_secrets[KeyKind.EMPORIX]
    context, page = _page(browser, site, dave, width)
    ApiKey.objects.filter(pk=custom.pk).delete()  # deleted by an admin meanwhile
    page.locator(f"#key-{custom.public_id}").get_by_role("button", name="Show secret of ERP orders").click()
    gone = _problem(page, custom)
    expect(gone).to_contain_text("This key or secret no longer exists, or you no longer have access to it.")
    expect(gone.get_by_role("link", name="Reload the page")).to_be_visible()
    _clean(page, f"{width}px key gone")

    Membership.objects.filter(user=dave, tenant=tenant).update(role=Role.VIEWER)  # role lowered meanwhile
    page.locator(f"#key-{emporix.public_id}").get_by_role("button", name="Show secret of Emporix API").click()
    expect(_problem(page, emporix)).to_have_text(
        "Your role in this tenant does not allow this. Ask one of its admins. "
    )
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_two_factor_required_links_to_its_set_up_and_a_lost_connection_says_so(
    browser, site, dave, acme_secrets, width
):
    key, _ = acme_secrets[KeyKind.EMPORIX]
    context, page = _page(browser, site, dave, width)
    row = page.locator(f"#key-{key.public_id}")
    page.route("**/secret/", lambda route: route.abort("internetdisconnected"))
    row.get_by_role("button", name="Show secret of Emporix API").click()
    expect(_problem(page, key)).to_contain_text("The portal could not be reached. Check your connection")
    page.unroute("**/secret/")

    key.tenant.require_mfa = True
    key.tenant.save(update_fields=["require_mfa"])
    row.get_by_role("button", name="Copy secret of Emporix API").click()
    problem = _problem(page, key)
    expect(problem).to_contain_text("two-factor")
    expect(problem.get_by_role("link", name="Set up two-factor authentication")).to_have_attribute(
        "href", "/accounts/2fa/"
    )
    assert page.locator("[data-secret-problem]").count() == 1  # one notice per secret, replaced
    _clean(page, f"{width}px two-factor required")
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_try_it_on_an_expired_page_says_so_in_words(browser, site, dave, acme_secrets, settings, width):
    key, _ = acme_secrets[KeyKind.EMPORIX]
    context, page = _page(browser, site, dave, width)
    page.goto(f"{site.url}{KEYS}{key.public_id}/get-started/")
    cookie = next(c for c in context.cookies() if c["name"] == settings.CSRF_COOKIE_NAME)
    context.add_cookies([{**cookie, "value": "x" * 32}])
    page.get_by_role("button", name="Try it").click()
    output = page.locator("[data-try-output]")
    expect(output).to_contain_text("Try it failed: This page has expired")
    assert "HTTP 403" not in output.inner_text()
    _clean(page, f"{width}px Try it on an expired page")
    context.close()
