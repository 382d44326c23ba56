"""The re-authentication page in Chromium: in the portal's layout, naming what it protects
("Confirm it is you to reveal the secret of Emporix API"), confirmed by the password, the
authenticator app or a passkey, and back on the row; a developer who has just chosen a
password when accepting an invitation reveals at once. At 1280 and 390 px, axe clean."""

import re

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.core import mail
from playwright.sync_api import expect

from accounts.tests.conftest import totp_code
from accounts.tests.test_browser_passkeys import with_authenticator
from activity.audit import Audit
from apikeys.models import KeyKind
from apikeys.tests.test_browser_reauthentication import _age_the_login
from conftest import PASSWORD
from portal.tests.test_accessibility import _axe, describe
from tenants.grants import person_powers
from tenants.models import Role
from tenants.services import invitation_send

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = [1280, 390]
KEYS = "/tenants/acme/api-keys/"
NEW_PASSWORD = "a-long-new-pass-2026"


def _context(browser, width: int):
    """bypass_csp to inject axe (the pages' strict CSP refuses it)."""
    context = browser.new_context(viewport={"width": width, "height": 900 if width > 600 else 844}, bypass_csp=True)
    context.set_default_timeout(10_000)
    return context


def _log_in(page, site, user, code: str | None = None) -> None:
    page.goto(f"{site.url}/accounts/login/")
    page.fill("input[name=username]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    if code is not None:
        page.wait_for_url("**/accounts/2fa/authenticate/")
        page.fill("input[name=code]", code)
        page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{site.url}/tenants/**")


def _clean(page, state: str) -> None:
    violations = describe(state, _axe(page))
    assert violations == [], "\n".join(violations)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"{state}: sideways scroll"


def _reveal(page, key):
    row = page.locator(f"#key-{key.public_id}")
    row.get_by_role("button", name=f"Show secret of {key.name}").click()
    return row


@pytest.mark.parametrize("width", WIDTHS)
def test_the_page_names_the_reveal_and_the_password_brings_the_user_back(browser, site, dave, acme_secrets, width):
    key, plaintext = acme_secrets[KeyKind.EMPORIX]
    context = _context(browser, width)
    page = context.new_page()
    _log_in(page, site, dave)
    page.goto(f"{site.url}{KEYS}#key-{key.public_id}")
    _age_the_login(page)
    _reveal(page, key)
    page.wait_for_url("**/accounts/reauthenticate/**")
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it is you to reveal the secret of Emporix API")
    assert page.title().startswith("Confirm it is you")
    assert "Confirm Access" not in page.content() and plaintext not in page.content()
    expect(page.locator("header")).to_be_visible()  # the portal's own frame, with its top bar
    _clean(page, f"{width}px re-authentication page")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Confirm with your password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it is you to reveal the secret of Emporix API")
    _clean(page, f"{width}px re-authentication page, wrong password")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm with your password").click()
    page.wait_for_url(f"{site.url}{KEYS}#key-{key.public_id}")
    row = _reveal(page, key)
    expect(row.locator("[data-secret-value]")).to_have_text(plaintext)
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_authenticator_app_confirms_as_well(browser, site, alice, acme_secrets, width):
    key, plaintext = acme_secrets[KeyKind.STOREFRONT]
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    TOTP.activate(alice, secret)
    context = _context(browser, width)
    page = context.new_page()
    _log_in(page, site, alice, code=totp_code(secret))
    page.goto(f"{site.url}{KEYS}")
    _age_the_login(page)
    _reveal(page, key)
    page.wait_for_url("**/accounts/reauthenticate/**")
    page.get_by_role("link", name="Use your authenticator app or a recovery code").click()
    page.wait_for_url("**/accounts/2fa/reauthenticate/**")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Confirm it is you to reveal the secret of Storefront API"
    )
    expect(page.get_by_role("link", name="Use your password")).to_be_visible()
    _clean(page, f"{width}px re-authentication by the app")
    page.get_by_label("Code").fill(totp_code(secret, offset_steps=1))  # the login's code is used up
    page.get_by_role("button", name="Confirm with the code").click()
    page.wait_for_url(re.compile(re.escape(f"{site.url}{KEYS}")))
    row = _reveal(page, key)
    expect(row.locator("[data-secret-value]")).to_have_text(plaintext)
    context.close()


def test_a_passkey_confirms_as_well_and_adding_it_after_the_login_asked_nothing(browser, site, alice, acme_secrets):
    key, plaintext = acme_secrets[KeyKind.EMPORIX]
    context = _context(browser, 1280)
    page = context.new_page()
    with_authenticator(page)
    _log_in(page, site, alice)
    page.goto(f"{site.url}/accounts/")
    page.get_by_role("link", name="Add a passkey").click()
    page.wait_for_url("**/accounts/2fa/webauthn/add/")  # no password asked again right after the login
    page.fill("input[name=name]", "Work laptop")
    page.get_by_role("button", name="Add passkey").click()
    page.wait_for_url("**/accounts/2fa/recovery-codes/")

    page.goto(f"{site.url}{KEYS}")
    _age_the_login(page)
    _reveal(page, key)
    page.wait_for_url("**/accounts/reauthenticate/**")
    page.get_by_role("link", name="Use a passkey").click()
    page.wait_for_url("**/accounts/2fa/webauthn/reauthenticate/**")
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it is you to reveal the secret of Emporix API")
    _clean(page, "1280px re-authentication by a passkey")
    page.get_by_role("button", name="Confirm with a passkey").click()
    page.wait_for_url(re.compile(re.escape(f"{site.url}{KEYS}")))
    row = _reveal(page, key)
    expect(row.locator("[data-secret-value]")).to_have_text(plaintext)
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_an_invited_developer_reveals_right_after_choosing_a_password(browser, site, alice, acme_secrets, width):
    key, plaintext = acme_secrets[KeyKind.EMPORIX]
    invitation_send(
        tenant=key.tenant,
        email="new@example.com",
        role=Role.DEVELOPER,
        accept_url=f"{site.url}/invitations/accept/",
        audit=Audit(actor=alice),
        grantor=person_powers(Role.ADMIN, reauthenticated=True),
    )
    link = re.search(r"https?://\S+token=akpi_[\w-]+", mail.outbox[-1].body).group(0)
    context = _context(browser, width)
    page = context.new_page()
    page.goto(link)
    page.get_by_label("Choose a password").fill(NEW_PASSWORD)
    page.get_by_label("Password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Create account and join").click()
    page.wait_for_url(f"{site.url}{KEYS}")
    row = _reveal(page, key)
    expect(row.locator("[data-secret-value]")).to_have_text(plaintext)  # no password asked again
    assert "/accounts/reauthenticate/" not in page.url
    context.close()


def test_a_long_name_wraps_on_a_phone(browser, site, alice, acme_secrets):
    from apikeys.services import key_create
    from scopes.models import Scope

    name = "ERP-orders-" + "x" * 53  # 64 characters, no space to break at
    key = key_create(
        tenant=acme_secrets[KeyKind.EMPORIX][0].tenant,
        kind=KeyKind.CUSTOM,
        name=name,
        scopes=list(Scope.objects.filter(name="tax.tax_read")),
    )[0]
    context = _context(browser, 390)
    page = context.new_page()
    _log_in(page, site, alice)
    page.goto(f"{site.url}/accounts/reauthenticate/?next=/tenants/acme/api-keys/{key.public_id}/edit/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Confirm it is you to edit {name}")
    _clean(page, "390px re-authentication page, long key name")
    context.close()
