"""The limits accounts.throttle adds for allauth's forms: re-authentication and the current
password on a password change per user, password reset mails per e-mail and per address; and
a second factor that still works while the cache (Redis) is down."""

import pyotp
import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.core import mail
from django.test import Client

from accounts.tests.conftest import log_in, reauthenticate
from conftest import PASSWORD
from kernel import background
from portal.settings import cache_config

pytestmark = pytest.mark.django_db


def test_wrong_re_authentications_are_limited_per_user(alice_client, settings):
    settings.ACCOUNT_FAILURE_LIMIT_PER_USER = 3
    for _ in range(3):
        assert "Incorrect password" in reauthenticate(alice_client, "wrong").content.decode()
    refused = reauthenticate(alice_client)
    assert "Too many failed attempts" in refused.content.decode()


def test_a_right_re_authentication_does_not_count(alice_client, settings):
    settings.ACCOUNT_FAILURE_LIMIT_PER_USER = 2
    for _ in range(5):
        assert reauthenticate(alice_client).status_code == 302
    assert "Incorrect password" in reauthenticate(alice_client, "wrong").content.decode()


def test_guessing_the_current_password_on_the_change_form_is_limited(alice_client, alice, settings):
    settings.ACCOUNT_FAILURE_LIMIT_PER_USER = 2
    form = {"password1": "a-brand-new-passphrase", "password2": "a-brand-new-passphrase"}
    for guess in ("one", "two"):
        alice_client.post("/accounts/password/change/", {**form, "oldpassword": guess})
    refused = alice_client.post("/accounts/password/change/", {**form, "oldpassword": PASSWORD})
    assert refused.status_code == 200 and "Too many failed attempts" in refused.content.decode()
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_reset_mails_are_limited_per_email_and_per_address(alice, settings):
    settings.PASSWORD_RESET_LIMIT_PER_EMAIL = 2
    settings.PASSWORD_RESET_LIMIT_PER_ADDRESS = 3
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        Client(REMOTE_ADDR=address).post("/accounts/password/reset/", {"email": "alice@example.com"})
    assert background.drain()  # the mails are sent after the response
    assert len(mail.outbox) == 2
    for n in range(3):
        Client(REMOTE_ADDR="10.9.9.9").post("/accounts/password/reset/", {"email": f"nobody{n}@example.com"})
    refused = Client(REMOTE_ADDR="10.9.9.9").post("/accounts/password/reset/", {"email": "bob@example.com"})
    assert "Too many reset requests" in refused.content.decode()


def test_a_second_factor_works_while_the_cache_is_down(client, alice, settings):
    # Nothing listens on port 1: every cache call is refused. The limits count in process
    # memory (kernel.ratelimit); used codes are in the database; allauth's cache use is off.
    settings.CACHES = {"default": cache_config("redis://127.0.0.1:1/0")}
    secret = pyotp.random_base32()
    TOTP.activate(alice, secret)
    assert log_in(client, alice.email).url == "/accounts/2fa/authenticate/"
    code = pyotp.TOTP(secret).now()
    assert client.post("/accounts/2fa/authenticate/", {"code": code}).status_code == 302
    assert client.get("/tenants/").status_code == 200
    client.logout()
    log_in(client, alice.email)
    assert client.post("/accounts/2fa/authenticate/", {"code": code}).status_code == 200  # still used once only
