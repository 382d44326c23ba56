from datetime import timedelta
from unittest import mock

from django.utils import timezone

GRANT = {"grant_type": "client_credentials"}


def at(moment):
    return mock.patch("django.utils.timezone.now", return_value=moment)


def attempt(post_token, client_id, secret, address="10.0.0.1"):
    return post_token({**GRANT, "client_id": client_id, "client_secret": secret}, REMOTE_ADDR=address)


def test_failures_past_the_client_limit_get_429_then_recover(post_token, emporix, settings):
    settings.AUTH_FAILURE_LIMIT_PER_CLIENT = 3
    settings.AUTH_FAILURE_WINDOW = 300
    key, secret = emporix
    start = timezone.now().replace(minute=0, second=10, microsecond=0)
    with at(start):
        for _ in range(3):
            assert attempt(post_token, key.client_id, "wrong").status_code == 401
        locked = attempt(post_token, key.client_id, "wrong")
        assert locked.status_code == 429
        assert locked.json()["error"] == "too_many_requests"
        assert locked["Retry-After"] == "290"
        assert locked["Cache-Control"] == "no-store"
        # The right secret during the lockout is refused too: limits are checked first.
        assert attempt(post_token, key.client_id, secret, address="10.9.9.9").status_code == 429
    with at(start + timedelta(seconds=289)):
        assert attempt(post_token, key.client_id, secret, address="10.9.9.9").status_code == 429
    with at(start + timedelta(seconds=290)):  # the next window
        assert attempt(post_token, key.client_id, secret).status_code == 200


def test_failures_past_the_address_limit_get_429_for_any_client(post_token, emporix, custom, settings):
    settings.AUTH_FAILURE_LIMIT_PER_ADDRESS = 4
    key, secret = emporix
    start = timezone.now().replace(minute=0, second=0, microsecond=0)
    with at(start):
        for number in range(4):
            assert attempt(post_token, f"{number:032d}", "wrong").status_code == 401
        assert attempt(post_token, key.client_id, secret).status_code == 429
        assert attempt(post_token, key.client_id, secret, address="10.0.0.2").status_code == 200
    with at(start + timedelta(seconds=settings.AUTH_FAILURE_WINDOW)):
        assert attempt(post_token, key.client_id, secret).status_code == 200


def test_a_success_does_not_reset_the_counters(post_token, emporix, settings):
    settings.AUTH_FAILURE_LIMIT_PER_CLIENT = 2
    key, secret = emporix
    start = timezone.now().replace(minute=0, second=0, microsecond=0)
    with at(start):
        assert attempt(post_token, key.client_id, "wrong").status_code == 401
        assert attempt(post_token, key.client_id, secret).status_code == 200
        assert attempt(post_token, key.client_id, "wrong", address="10.0.0.3").status_code == 401
        assert attempt(post_token, key.client_id, secret).status_code == 429


def test_malformed_basic_headers_count_against_the_address(post_token, emporix, settings):
    settings.AUTH_FAILURE_LIMIT_PER_ADDRESS = 2
    key, secret = emporix
    for _ in range(2):
        assert post_token(GRANT, HTTP_AUTHORIZATION="Basic !!", REMOTE_ADDR="10.0.0.7").status_code == 401
    assert attempt(post_token, key.client_id, secret, address="10.0.0.7").status_code == 429


def test_the_trusted_proxy_header_names_the_address(post_token, emporix, settings):
    settings.AUTH_FAILURE_LIMIT_PER_ADDRESS = 1
    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    key, secret = emporix
    assert attempt(post_token, "1" * 32, "x").status_code == 401
    # Same REMOTE_ADDR (the proxy), another forwarded client: not limited.
    response = post_token(
        {**GRANT, "client_id": key.client_id, "client_secret": secret},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    assert response.status_code == 200
