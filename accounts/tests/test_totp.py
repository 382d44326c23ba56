"""An authenticator app (TOTP): set up with a code computed here, then asked for after the
password; wrong, reused and older codes refused; recovery codes each work once; failures
limited per user; turning it off needs a re-authentication."""

import time

import pyotp
import pytest
import time_machine
from allauth.mfa.models import Authenticator

from accounts.tests.conftest import log_in, reauthenticate, set_up_totp, totp_code

pytestmark = pytest.mark.django_db

AUTHENTICATE = "/accounts/2fa/authenticate/"


def second_factor(client, code: str):
    return client.post(AUTHENTICATE, {"code": code})


def password_step(client, user) -> None:
    """Log out, then in again with the password: the second factor comes next."""
    client.logout()
    assert log_in(client, user.email).url == AUTHENTICATE


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def later(seconds: float):
    return time_machine.travel(time.time() + seconds, tick=False)


def test_right_after_the_login_setting_up_asks_no_password_again(alice_client, alice):
    page = alice_client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200 and page.context["form"].secret


def test_setting_up_needs_a_recent_authentication_and_a_correct_code(alice_client, alice):
    with later(601):  # the login is older than the window
        page = alice_client.get("/accounts/2fa/totp/activate/")
        assert page.status_code == 302 and page.url.startswith("/accounts/reauthenticate/?next=")
        reauth_page = alice_client.get(page.url).content.decode()
        assert "Confirm it is you to set up an authenticator app" in reauth_page
        assert reauthenticate(alice_client, "wrong").status_code == 200
        assert reauthenticate(alice_client).status_code == 302
    page = alice_client.get("/accounts/2fa/totp/activate/")
    secret = page.context["form"].secret
    body = page.content.decode()
    assert 'src="data:image/svg+xml;base64,' in body  # the QR code, drawn on the server
    assert secret in body  # and the key as text
    wrong = alice_client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret, offset_steps=5)})
    assert wrong.status_code == 200 and not Authenticator.objects.filter(user=alice).exists()
    assert alice_client.post("/accounts/2fa/totp/activate/", {"code": pyotp.TOTP(secret).now()}).status_code == 302
    assert Authenticator.objects.get(user=alice, type="totp")


def test_login_asks_for_the_code_after_the_password(alice_with_totp, client, alice):
    _, secret, _ = alice_with_totp
    client.logout()
    response = log_in(client, alice.email)
    assert response.status_code == 302 and response.url == AUTHENTICATE
    assert not logged_in(client)
    assert client.get("/tenants/").status_code == 302  # nothing before the second factor
    page = client.get(AUTHENTICATE).content.decode()
    assert 'name="code"' in page and "Use a passkey" not in page  # she has no passkey
    response = second_factor(client, totp_code(secret))
    assert response.status_code == 302 and logged_in(client)
    assert client.get("/tenants/").status_code == 200


def test_a_wrong_code_is_refused(alice_with_totp, client, alice):
    _, secret, _ = alice_with_totp
    password_step(client, alice)
    response = second_factor(client, totp_code(secret, offset_steps=10))
    assert response.status_code == 200 and "Incorrect code" in response.content.decode()
    assert not logged_in(client)


def test_a_used_code_and_an_older_one_are_refused_and_the_next_one_works(alice_with_totp, client, alice):
    _, secret, _ = alice_with_totp
    code = totp_code(secret)
    password_step(client, alice)
    assert second_factor(client, code).status_code == 302
    password_step(client, alice)
    assert second_factor(client, code).status_code == 200  # the same code again
    assert second_factor(client, totp_code(secret, offset_steps=-1)).status_code == 200  # an older one
    assert not logged_in(client)
    with time_machine.travel(time.time() + 30, tick=False):
        assert second_factor(client, totp_code(secret)).status_code == 302
    assert logged_in(client)


def test_a_used_code_is_refused_even_when_the_cache_forgot_it(alice_with_totp, client, alice):
    # The used step is kept in the authenticator's row, not in a per-process cache.
    from django.core.cache import cache

    _, secret, _ = alice_with_totp
    code = totp_code(secret)
    password_step(client, alice)
    assert second_factor(client, code).status_code == 302
    cache.clear()
    password_step(client, alice)
    assert second_factor(client, code).status_code == 200


def test_each_recovery_code_works_once(alice_with_totp, client, alice):
    _, _, codes = alice_with_totp
    assert len(codes) == 10
    password_step(client, alice)
    assert second_factor(client, codes[0]).status_code == 302
    password_step(client, alice)
    assert second_factor(client, codes[0]).status_code == 200
    assert second_factor(client, codes[1]).status_code == 302
    rc = Authenticator.objects.get(user=alice, type="recovery_codes")
    assert len(rc.wrap().get_unused_codes()) == 8


def test_recovery_codes_are_shown_once(alice_with_totp):
    client, _, codes = alice_with_totp
    page = client.get("/accounts/2fa/recovery-codes/")
    body = page.content.decode()
    assert not any(code in body for code in codes)
    assert "does not show them again" not in body


def test_new_recovery_codes_replace_the_old_ones(alice_with_totp, client, alice):
    own, _, old = alice_with_totp
    response = own.post("/accounts/2fa/recovery-codes/generate/")
    assert response.status_code == 302
    new = own.get(response.url).context["unused_codes"]
    assert set(new).isdisjoint(old)
    password_step(client, alice)
    assert second_factor(client, old[2]).status_code == 200
    assert second_factor(client, new[0]).status_code == 302


def test_wrong_codes_are_limited_per_user(alice_with_totp, client, alice, settings):
    settings.ACCOUNT_FAILURE_LIMIT_PER_USER = 3
    _, secret, _ = alice_with_totp
    password_step(client, alice)
    for _ in range(3):
        assert "Incorrect code" in second_factor(client, "000000").content.decode()
    refused = second_factor(client, totp_code(secret))  # even the right code, now
    assert "Too many failed attempts" in refused.content.decode()
    assert not logged_in(client)


def test_turning_the_app_off_needs_a_re_authentication(alice_with_totp, alice, settings):
    client, _, _ = alice_with_totp
    with time_machine.travel(time.time() + settings.ACCOUNT_REAUTHENTICATION_TIMEOUT + 1, tick=False):
        # A long time later (an active session, within its idle timeout)
        client.get("/accounts/")
        response = client.post("/accounts/2fa/totp/deactivate/")
        assert response.status_code == 302 and response.url.startswith("/accounts/reauthenticate/")
        assert Authenticator.objects.filter(user=alice, type="totp").exists()
        assert reauthenticate(client).status_code == 302
        assert client.post("/accounts/2fa/totp/deactivate/").status_code == 302
    assert not Authenticator.objects.filter(user=alice).exists()  # the recovery codes went with it


def test_the_admin_login_sends_a_user_with_a_second_factor_to_the_portal_login(alice_with_totp, client, alice):
    alice.is_staff = True
    alice.save()
    client.logout()
    response = client.post("/admin/login/", {"username": alice.email, "password": __import__("conftest").PASSWORD})
    assert response.status_code == 302 and response.url == "/accounts/login/?next=/admin/"
    assert not logged_in(client)


def test_my_account_shows_what_is_set_up(alice_with_totp, acme):
    client, _, _ = alice_with_totp
    body = client.get("/accounts/").content.decode()
    assert "Acme Corp" in body and "Admin" in body
    assert "Turn off" in body and "10 unused codes left" in body


def test_setting_up_needs_no_second_login(alice_with_totp, alice):
    set_up_again = alice_with_totp[0].get("/accounts/2fa/totp/activate/")
    assert set_up_again.status_code == 302 and set_up_again.url == "/accounts/2fa/totp/deactivate/"


def test_setup_helper_is_what_the_page_does(alice_client):
    reauthenticate(alice_client)
    secret, codes = set_up_totp(alice_client)
    assert len(secret) == 32 and len(codes) == 10
