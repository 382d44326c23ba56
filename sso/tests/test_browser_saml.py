"""Chromium walks single sign-on through the real SAML IdP: Sign in with SSO from the login
page, a SAML tenant that refuses the password and sends its member to the IdP, an IdP's error,
and the SSO page set to SAML at phone width with axe."""

import pytest

from activity.audit import SYSTEM
from conftest import PASSWORD
from sso import services

from .conftest import connect_saml
from .test_browser_sso import assert_axe_clean

pytestmark = [pytest.mark.browser, pytest.mark.outside]


@pytest.fixture
def acme_saml(site, acme, saml_idp, alice):
    connection = connect_saml(acme, saml_idp)
    saml_idp.people(
        {
            "dave@example.com": {"groups": ["portal-developers"]},
            "alice@example.com": {"groups": ["portal-admins"]},
            "erin@example.com": {"mode": "error"},
        }
    )
    return connection


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.set_default_timeout(10_000)
    yield context
    context.close()


def at_idp_sign_in(page, email: str) -> None:
    page.wait_for_url("**/sso/redirect?**")
    page.fill("input[name=email]", email)
    page.click("text=Sign in")
    page.wait_for_load_state()


def test_signing_in_with_saml_from_the_login_page(context, site, acme_saml):
    page = context.new_page()
    page.goto(f"{site.url}/accounts/login/")
    page.click("text=Sign in with SSO")
    page.fill("input[name=who]", "dave@example.com")
    page.click("button:has-text('Continue')")
    at_idp_sign_in(page, "dave@example.com")
    page.wait_for_url(f"{site.url}/tenants/acme/api-keys/")
    assert page.locator("h1").first.inner_text() == "Manage API Keys"
    assert "you are developer" in page.locator(".tenant-head").inner_text()


def test_a_saml_tenant_that_requires_sso_sends_a_password_login_to_its_idp(context, site, acme_saml, acme, dave):
    services.enforcement_set(tenant=acme, audit=SYSTEM, required=True, exempt_user_ids=set())
    page = context.new_page()
    page.goto(f"{site.url}/accounts/login/")
    page.fill("input[name=username]", dave.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    page.goto(f"{site.url}/tenants/acme/api-keys/")
    assert "Acme Corp requires signing in through its identity provider." in page.locator("#sso-required").inner_text()
    page.click("button:has-text('Sign in with SSO')")
    at_idp_sign_in(page, "dave@example.com")
    page.wait_for_url(f"{site.url}/tenants/acme/api-keys/")
    assert page.locator("h1").first.inner_text() == "Manage API Keys"


def test_an_idp_error_is_a_clear_page(context, site, acme_saml):
    page = context.new_page()
    page.goto(f"{site.url}/accounts/sso/")
    page.fill("input[name=who]", "acme")
    page.click("button:has-text('Continue')")
    at_idp_sign_in(page, "erin@example.com")
    page.wait_for_selector("#sso-refusal")
    assert page.locator("h1").inner_text() == "You were not signed in"
    assert "it answered with an error status" in page.locator("#sso-refusal").inner_text()


def test_the_saml_settings_page_passes_axe_at_phone_width(site, acme_saml, alice, page_for):
    page = page_for(alice, width=390, bypass_csp=True)
    page.goto(f"{site.url}/tenants/acme/sso/")
    assert page.locator("#saml-acs-url").inner_text() == f"{site.url}/accounts/saml/acme/acs/"
    assert page.locator("input[name=protocol][value=saml]").is_checked()
    assert_axe_clean(page, "SSO settings, SAML")
    page.click("button:has-text('Make a token')")
    assert page.locator("#scim-token").inner_text().startswith("pscim_")
    assert_axe_clean(page, "SSO settings, a new SCIM token")
