"""Passkeys in a real Chromium with a virtual authenticator (CDP WebAuthn domain): added from
My Account (after re-authenticating), then used as the whole login and as the second factor
after a password; a roaming USB security key (no resident key, no user verification) as the
second factor; removed. The live server is http://localhost, a secure context for WebAuthn."""

import pytest
from allauth.mfa.models import Authenticator
from playwright.sync_api import expect

from conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",  # a platform authenticator (Touch ID, Windows Hello, ...)
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
}
# A roaming authenticator: a USB security key without user verification or resident keys.
SECURITY_KEY = {"protocol": "ctap2", "transport": "usb", "hasResidentKey": False, "hasUserVerification": False}


def with_authenticator(page, options: dict = AUTHENTICATOR) -> dict:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
    return {"cdp": cdp, "id": authenticator["authenticatorId"]}


def credentials(device) -> list:
    return device["cdp"].send("WebAuthn.getCredentials", {"authenticatorId": device["id"]})["credentials"]


def add_passkey(page, site, name: str, passwordless: bool = True) -> None:
    page.goto(f"{site.url}/accounts/")
    page.get_by_role("link", name="Add a passkey").click()
    # Right after the login: no password asked again (a fresh login counts, accounts.reauth).
    page.wait_for_url("**/accounts/2fa/webauthn/add/")
    page.fill("input[name=name]", name)
    assert page.is_checked("input[name=passwordless]")
    if not passwordless:
        page.uncheck("input[name=passwordless]")
    page.get_by_role("button", name="Add passkey").click()
    page.wait_for_url("**/accounts/2fa/recovery-codes/")  # the first second factor brings recovery codes


def log_out(page) -> None:
    page.locator("summary", has_text="@").click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/accounts/login/")


def test_a_passkey_is_added_and_then_is_the_whole_login(page_for, site, alice):
    page = page_for(alice)
    device = with_authenticator(page)
    add_passkey(page, site, "Work laptop")
    (passkey,) = Authenticator.objects.filter(user=alice, type=Authenticator.Type.WEBAUTHN)
    assert passkey.wrap().name == "Work laptop" and passkey.wrap().is_passwordless
    assert len(credentials(device)) == 1 and credentials(device)[0]["isResidentCredential"]
    page.goto(f"{site.url}/accounts/")
    assert page.get_by_text("Work laptop").is_visible()
    assert page.evaluate(
        "[...document.querySelectorAll('script:not([src])')].every(s => s.type === 'application/json')"
    )

    log_out(page)
    page.get_by_role("button", name="Log in with a passkey").click()  # no e-mail, no password
    page.wait_for_url(f"{site.url}/tenants/")
    assert page.get_by_role("heading", name="Tenants", exact=True).is_visible()
    passkey.refresh_from_db()
    assert passkey.last_used_at is not None


def test_a_passkey_is_the_second_factor_after_the_password(page_for, site, alice):
    page = page_for(alice)
    with_authenticator(page)
    add_passkey(page, site, "Security key")
    log_out(page)
    page.fill("input[name=username]", alice.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.get_by_role("button", name="Use a passkey").click()
    page.wait_for_url(f"{site.url}/tenants/")


def test_a_roaming_security_key_is_the_second_factor(page_for, site, alice):
    page = page_for(alice)
    device = with_authenticator(page, SECURITY_KEY)
    add_passkey(page, site, "YubiKey", passwordless=False)
    (key,) = Authenticator.objects.filter(user=alice, type=Authenticator.Type.WEBAUTHN)
    assert key.wrap().name == "YubiKey" and not key.wrap().is_passwordless
    assert not credentials(device)[0]["isResidentCredential"]
    log_out(page)
    page.fill("input[name=username]", alice.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.get_by_role("button", name="Use a passkey").click()
    page.wait_for_url(f"{site.url}/tenants/")


def test_a_passkey_is_removed(page_for, site, alice):
    page = page_for(alice)
    with_authenticator(page)
    add_passkey(page, site, "Old phone")
    page.goto(f"{site.url}/accounts/2fa/webauthn/")
    page.get_by_role("link", name="Remove Old phone").click()
    page.get_by_role("button", name="Remove").click()
    page.wait_for_url("**/accounts/2fa/webauthn/")
    assert not Authenticator.objects.filter(user=alice).exists()  # recovery codes go with the last factor


def test_a_cancelled_passkey_login_says_so(page_for, site, alice):
    page = page_for(alice)
    log_out(page)  # no authenticator attached: the browser cannot find a passkey
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {**AUTHENTICATOR, "isUserVerified": False}})
    page.get_by_role("button", name="Log in with a passkey").click()
    expect(page.locator("[data-live-region]")).to_contain_text("passkey", timeout=15_000)
    assert page.url.endswith("/accounts/login/")
