"""Failed client authentications are counted per (Client ID, client address) and per client
address; past a limit a failure is answered 429 slow_down until the window ends. A correct
secret is never refused, and the anonymous login has counters of its own."""

from datetime import timedelta
from unittest import mock

from django.utils import timezone

from oauth.models import AccessToken

GRANT = {"grant_type": "client_credentials"}
LOGIN = "/customerlogin/auth/anonymous/login"


def at(moment):
    return mock.patch("django.utils.timezone.now", return_value=moment)


def attempt(post_token, client_id, secret, address="10.0.0.1"):
    return post_token({**GRANT, "client_id": client_id, "client_secret": secret}, REMOTE_ADDR=address)


def anonymous_login(client, client_id, address="10.0.0.1"):
    return client.get(LOGIN, {"tenant": "acme", "client_id": client_id}, REMOTE_ADDR=address)


def test_failures_past_the_limit_get_429_slow_down_until_the_window_ends(post_token, emporix, settings):
    settings.AUTH_FAILURE_LIMIT_PER_CLIENT = 3
    settings.AUTH_FAILURE_WINDOW = 300
    key, _ = emporix
    start = timezone.now().replace(minute=0, second=10, microsecond=0)
    with at(start):
        for _ in range(3):
            assert attempt(post_token, key.client_id, "wrong").status_code == 401
        limited = attempt(post_token, key.client_id, "wrong")
        assert limited.status_code == 429
        assert limited.json()["error"] == "slow_down"
        assert limited["Retry-After"] == "290"
        assert limited["Cache-Control"] == "no-store"
    with at(start + timedelta(seconds=289)):
        assert attempt(post_token, key.client_id, "wrong").status_code == 429
    with at(start + timedelta(seconds=290)):  # the next window
        assert attempt(post_token, key.client_id, "wrong").status_code == 401


def test_the_right_secret_is_never_refused_after_failures(post_token, emporix, settings):
    settings.AUTH_FAILURE_LIMIT_PER_CLIENT = 3
    settings.AUTH_FAILURE_LIMIT_PER_ADDRESS = 5
    key, secret = emporix
    answers = [attempt(post_token, key.client_id, "wrong").status_code for _ in range(8)]
    assert answers == [401] * 3 + [429] * 5  # both limits are passed
    # From another address, and from the very address that failed.
    assert attempt(post_token, key.client_id, secret, address="10.0.0.2").status_code == 200
    assert attempt(post_token, key.client_id, secret, address="10.0.0.1").status_code == 200
    # The success did not reset the counters.
    assert attempt(post_token, key.client_id, "wrong").status_code == 429


def test_failures_from_one_address_do_not_limit_the_client_at_another(post_token, emporix, settings):
    settings.AUTH_FAILURE_LIMIT_PER_CLIENT = 2
    key, _ = emporix
    assert [attempt(post_token, key.client_id, "wrong").status_code for _ in range(3)] == [401, 401, 429]
    assert attempt(post_token, key.client_id, "wrong", address="10.0.0.2").status_code == 401


def test_failures_past_the_address_limit_get_429_for_any_client(post_token, emporix, settings):
    settings.AUTH_FAILURE_LIMIT_PER_ADDRESS = 4
    key, secret = emporix
    for number in range(4):
        assert attempt(post_token, f"{number:032d}", "wrong").status_code == 401
    assert attempt(post_token, "9" * 32, "wrong").status_code == 429
    assert attempt(post_token, key.client_id, "wrong").status_code == 429
    assert attempt(post_token, key.client_id, secret).status_code == 200
    assert attempt(post_token, key.client_id, "wrong", address="10.0.0.2").status_code == 401


def test_malformed_basic_headers_count_against_the_address(post_token, emporix, settings):
    settings.AUTH_FAILURE_LIMIT_PER_ADDRESS = 2
    key, secret = emporix
    statuses = [post_token(GRANT, HTTP_AUTHORIZATION="Basic !!", REMOTE_ADDR="10.0.0.7").status_code for _ in range(3)]
    assert statuses == [401, 401, 429]
    assert attempt(post_token, "1" * 32, "wrong", address="10.0.0.7").status_code == 429
    assert attempt(post_token, key.client_id, secret, address="10.0.0.7").status_code == 200


def test_the_trusted_proxy_header_names_the_address(post_token, emporix, settings):
    settings.AUTH_FAILURE_LIMIT_PER_ADDRESS = 1
    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    key, _ = emporix

    def forwarded(client_address):
        return post_token(
            {**GRANT, "client_id": key.client_id, "client_secret": "wrong"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=client_address,
        ).status_code

    assert [forwarded("203.0.113.9"), forwarded("203.0.113.9")] == [401, 429]
    # Same REMOTE_ADDR (the proxy), another forwarded client: counted apart.
    assert forwarded("203.0.113.10") == 401


def test_wrong_secrets_for_the_storefront_id_never_affect_anonymous_login(post_token, client, storefront, settings):
    settings.AUTH_FAILURE_LIMIT_PER_CLIENT = 3
    settings.AUTH_FAILURE_LIMIT_PER_ADDRESS = 3
    key, _ = storefront
    statuses = {attempt(post_token, key.client_id, "wrong").status_code for _ in range(12)}
    assert statuses == {401, 429}
    assert anonymous_login(client, key.client_id).status_code == 200
    assert anonymous_login(client, key.client_id, address="10.0.0.2").status_code == 200


def test_unknown_clients_at_anonymous_login_are_counted_apart(post_token, client, storefront, emporix, settings):
    settings.AUTH_FAILURE_LIMIT_PER_ADDRESS = 2
    unknown = "Z" * 32
    assert [anonymous_login(client, unknown).status_code for _ in range(3)] == [401, 401, 429]
    assert anonymous_login(client, unknown).json()["error"] == "slow_down"
    # The token endpoint's counters for this address are untouched, and the right client still logs in.
    assert attempt(post_token, emporix[0].client_id, "wrong").status_code == 401
    assert anonymous_login(client, storefront[0].client_id).status_code == 200


def test_anonymous_sessions_are_limited_per_address(client, storefront, settings):
    settings.ANONYMOUS_LOGIN_LIMIT_PER_ADDRESS = 3
    settings.ANONYMOUS_LOGIN_WINDOW = 60
    key, _ = storefront
    start = timezone.now().replace(second=15, microsecond=0)
    with at(start):
        first = anonymous_login(client, key.client_id).json()
        assert [anonymous_login(client, key.client_id).status_code for _ in range(2)] == [200, 200]
        limited = anonymous_login(client, key.client_id)
        assert limited.status_code == 429
        assert limited.json()["error"] == "slow_down"
        assert limited["Retry-After"] == "45"
        # Refreshes write a token row too: the same count.
        refresh = client.get(
            "/customerlogin/auth/anonymous/refresh",
            {"tenant": "acme", "client_id": key.client_id, "refresh_token": first["refresh_token"]},
            REMOTE_ADDR="10.0.0.1",
        )
        assert refresh.status_code == 429
        assert AccessToken.objects.count() == 3
        assert anonymous_login(client, key.client_id, address="10.0.0.2").status_code == 200
    with at(start + timedelta(seconds=45)):
        assert anonymous_login(client, key.client_id).status_code == 200
