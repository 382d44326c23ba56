"""Helpers for the account tests: logging in through the real forms, re-authenticating,
setting up an authenticator app with codes computed here (pyotp)."""

import time

import pyotp
import pytest

from conftest import PASSWORD

LOGIN = "/accounts/login/"


def log_in(client, email: str, password: str = PASSWORD, **extra):
    return client.post(LOGIN, {"username": email, "password": password}, **extra)


def reauthenticate(client, password: str = PASSWORD):
    return client.post("/accounts/reauthenticate/", {"password": password})


def totp_code(secret: str, offset_steps: int = 0) -> str:
    """The app's code now, or `offset_steps` 30-second steps from now."""
    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)


def set_up_totp(client) -> tuple[str, list[str]]:
    """Turn on an authenticator app for the logged-in client's user (re-authenticating first);
    returns its secret and the recovery codes shown once afterwards."""
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200, page
    secret = page.context["form"].secret
    response = client.post("/accounts/2fa/totp/activate/", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302 and response.url == "/accounts/2fa/recovery-codes/"
    codes = client.get(response.url).context["unused_codes"]
    return secret, list(codes)


@pytest.fixture
def alice_client(client, alice):
    """alice, logged in through the form (so allauth recorded the login)."""
    assert log_in(client, alice.email).status_code == 302
    return client


@pytest.fixture
def alice_with_totp(alice_client):
    """alice with an authenticator app; (her logged-in client, secret, recovery codes)."""
    assert reauthenticate(alice_client).status_code == 302
    secret, codes = set_up_totp(alice_client)
    return alice_client, secret, codes
