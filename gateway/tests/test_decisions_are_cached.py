"""Verified tokens are kept per process for GATEWAY_CACHE_SECONDS, by the token's digest:
a cached decision costs no query, an uncached one one; refusals are never kept; revocation and
renew-now reach the gateway at most GATEWAY_CACHE_SECONDS later."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apikeys.services import key_renew
from conftest import run_manage
from gateway.decisions import TokenCache, grant_for, tokens
from kernel.crypto import digest as token_digest
from oauth.models import AccessToken

pytestmark = pytest.mark.django_db

ROUTE = "/customer/acme/customers"


def test_a_cached_decision_costs_no_query_and_an_uncached_one_one(check, mint, reader, django_assert_num_queries):
    token = mint(*reader)
    with django_assert_num_queries(1):
        assert check("GET", ROUTE, token).status_code == 200
    with django_assert_num_queries(0):
        assert check("GET", ROUTE, token).status_code == 200
        assert check("POST", ROUTE, token).status_code == 403  # the token is kept, not one answer
        assert check("GET", "/customer/globex/customers", token).status_code == 403


def test_a_refused_token_is_asked_about_every_time(check, django_assert_num_queries):
    for _ in range(3):
        with django_assert_num_queries(1):
            assert check("GET", ROUTE, "akpt_" + "x" * 43).status_code == 401
    assert len(tokens) == 0


def test_the_cache_is_keyed_by_digest_and_never_holds_the_token(check, mint, reader):
    token = mint(*reader)
    check("GET", ROUTE, token)
    assert list(tokens._entries) == [token_digest(token)]
    assert token not in repr(tokens._entries)


def test_a_revoked_token_works_at_most_the_cache_bound_longer(check, mint, reader, settings, clock):
    settings.GATEWAY_CACHE_SECONDS = 5
    token = mint(*reader)
    assert check("GET", ROUTE, token).status_code == 200
    AccessToken.objects.update(revoked_at=timezone.now())
    clock.now += 4.9
    assert check("GET", ROUTE, token).status_code == 200  # still within the bound
    clock.now += 0.2
    assert check("GET", ROUTE, token).status_code == 401


def test_renew_now_ends_access_within_the_cache_bound(check, mint, reader, settings, clock):
    settings.GATEWAY_CACHE_SECONDS = 3
    key, secret = reader
    token = mint(key, secret)
    assert check("GET", ROUTE, token).status_code == 200
    key_renew(key=key)
    clock.now += 3.01
    assert check("GET", ROUTE, token).status_code == 401
    clock.now += 10
    assert check("GET", ROUTE, token).status_code == 401


def test_a_zero_bound_asks_the_database_every_time(check, mint, reader, settings, django_assert_num_queries):
    settings.GATEWAY_CACHE_SECONDS = 0
    token = mint(*reader)
    for _ in range(2):
        with django_assert_num_queries(1):
            assert check("GET", ROUTE, token).status_code == 200
    AccessToken.objects.update(revoked_at=timezone.now())
    assert check("GET", ROUTE, token).status_code == 401


def test_an_entry_never_outlives_its_token(check, mint, reader, settings, clock, django_assert_num_queries):
    settings.GATEWAY_CACHE_SECONDS = 60
    token = mint(*reader)
    AccessToken.objects.update(expires_at=timezone.now() + timedelta(seconds=2))
    assert check("GET", ROUTE, token).status_code == 200
    clock.now += 1.5
    with django_assert_num_queries(0):
        check("GET", ROUTE, token)
    clock.now += 1  # past the token's expiry (by this clock): the entry is gone, the database asked
    with django_assert_num_queries(1):
        check("GET", ROUTE, token)


def test_the_cache_is_bounded_in_entries(mint, reader, clock):
    cache = TokenCache(max_entries=3)
    grant = grant_for(mint(*reader))
    cache.put(b"a", grant, 10)
    cache.put(b"b", grant, 1)
    cache.put(b"c", grant, 10)
    cache.put(b"d", grant, 10)  # full, nothing expired: the oldest goes
    assert [cache.get(key) is grant for key in (b"a", b"b", b"c", b"d")] == [False, True, True, True]
    clock.now += 2  # b has expired: it goes first, the others stay
    cache.put(b"e", grant, 10)
    assert [cache.get(key) is grant for key in (b"b", b"c", b"d", b"e")] == [False, True, True, True]
    assert len(cache) == 3


def test_the_bound_is_capped_in_the_settings(tmp_path):
    env = {"GATEWAY_CACHE_SECONDS": "61", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    result = run_manage(["check"], env)
    assert result.returncode != 0
    assert "GATEWAY_CACHE_SECONDS must be between 0 and 60, not 61" in result.stderr
