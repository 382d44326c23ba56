"""Chromium walks single sign-on against the real provider: Sign in with SSO from the login
page, a tenant that refuses the password and sends its member to the provider, a refusal, and
the SSO pages at phone width with axe."""

import pytest

from activity.audit import SYSTEM
from conftest import PASSWORD
from portal.tests.test_accessibility import _axe, describe
from sso import services

from .conftest import connect

pytestmark = [pytest.mark.browser, pytest.mark.outside]


@pytest.fixture
def acme_sso(site, acme, idp, alice):
    connection = connect(acme, idp)
    idp.people(
        {
            "dave@example.com": {"sub": "d-1", "groups": ["portal-developers"]},
            "alice@example.com": {"sub": "a-1", "groups": ["portal-admins"]},
        }
    )
    return connection


@pytest.fixture
def contexts(browser, site):
    """contexts(bypass_csp=False): a phone-sized browser context. The walks keep the portal's
    Content-Security-Policy (its form-action must let the sign-in reach the provider); the axe
    checks bypass it, to inject axe."""
    opened = []

    def new(bypass_csp: bool = False):
        context = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=bypass_csp)
        context.set_default_timeout(10_000)
        opened.append(context)
        return context

    yield new
    for context in opened:
        context.close()


@pytest.fixture
def context(contexts):
    return contexts()


def at_provider_sign_in(page, email: str) -> None:
    page.wait_for_url("**/interaction/**")
    page.fill("input[name=email]", email)
    page.click("text=Sign in")
    page.wait_for_load_state()


def assert_axe_clean(page, state: str) -> None:
    assert describe(state, _axe(page)) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "sideways scroll"


def test_signing_in_with_sso_from_the_login_page(context, site, acme_sso):
    page = context.new_page()
    page.goto(f"{site.url}/accounts/login/")
    page.click("text=Sign in with SSO")
    page.fill("input[name=who]", "dave@example.com")
    page.click("button:has-text('Continue')")
    at_provider_sign_in(page, "dave@example.com")
    assert page.url == f"{site.url}/tenants/acme/api-keys/"
    assert page.locator("h1").first.inner_text() == "Manage API Keys"
    assert "you are developer" in page.locator(".tenant-head").inner_text()


def test_a_tenant_that_requires_sso_sends_a_password_login_to_its_provider(context, site, acme_sso, acme, dave):
    services.enforcement_set(tenant=acme, audit=SYSTEM, required=True, exempt_user_ids=set())
    page = context.new_page()
    page.goto(f"{site.url}/accounts/login/")
    page.fill("input[name=username]", dave.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    page.goto(f"{site.url}/tenants/acme/api-keys/")
    assert "Acme Corp requires signing in through its identity provider." in page.locator("#sso-required").inner_text()
    page.click("button:has-text('Sign in with SSO')")
    at_provider_sign_in(page, "dave@example.com")
    assert page.url == f"{site.url}/tenants/acme/api-keys/"
    assert page.locator("h1").first.inner_text() == "Manage API Keys"


def test_a_refusal_at_the_provider_is_a_clear_page(context, site, acme_sso):
    page = context.new_page()
    page.goto(f"{site.url}/accounts/sso/")
    page.fill("input[name=who]", "acme")
    page.click("button:has-text('Continue')")
    page.wait_for_url("**/interaction/**")
    page.click("text=Deny")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "You were not signed in"
    assert "it refused the request" in page.locator("#sso-refusal").inner_text()


def test_the_sso_pages_pass_axe_at_phone_width(contexts, site, acme_sso, acme, dave, alice, page_for):
    page = contexts(bypass_csp=True).new_page()
    page.goto(f"{site.url}/accounts/sso/")
    assert_axe_clean(page, "sign in with SSO")
    page.fill("input[name=who]", "nobody@nowhere.test")
    page.click("button:has-text('Continue')")
    assert "No single sign-on is set up" in page.locator(".field-errors").inner_text()
    assert_axe_clean(page, "sign in with SSO, error")
    page.fill("input[name=who]", "acme")
    page.click("button:has-text('Continue')")
    page.wait_for_url("**/interaction/**")
    page.click("text=Deny")
    page.wait_for_load_state()
    assert_axe_clean(page, "refused")
    services.enforcement_set(tenant=acme, audit=SYSTEM, required=True, exempt_user_ids={alice.pk})
    page = page_for(dave, width=390, bypass_csp=True)
    page.goto(f"{site.url}/tenants/acme/api-keys/")
    assert_axe_clean(page, "SSO required")
    page = page_for(alice, width=390, bypass_csp=True)
    page.goto(f"{site.url}/tenants/acme/sso/")
    assert "sso-acme/login/callback/" in page.locator("#redirect-uri").inner_text()
    assert_axe_clean(page, "SSO settings")
