"""Keys kept per process for the token endpoint (apikeys.auth.key_kept): after a full check, a
key's next token requests skip the lookup, and the token's INSERT checks in the same statement
that the secret is still live and the key unchanged. Every change to a key, made here, by a
moved clock, or by another connection that sends no signal, is seen by the very next request."""

from datetime import timedelta

import psycopg
import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from apikeys import auth
from apikeys.models import ApiKey
from apikeys.services import (
    key_delete,
    key_disable,
    key_expiry_set,
    key_networks_set,
    key_rate_limit_set,
    key_renew,
    key_token_lifetime_set,
    key_update,
)
from conftest import counted_in_memory
from kernel import usage
from oauth.models import AccessToken
from scopes.models import Scope


def _token(post_token, key, secret, **extra):
    return post_token(
        {"grant_type": "client_credentials", "client_id": key.client_id, "client_secret": secret}, **extra
    )


@pytest.fixture
def kept(post_token, custom):
    """The custom key after one token request: kept by this process."""
    key, secret = custom
    assert _token(post_token, key, secret).status_code == 200
    assert key.client_id in auth._kept
    return key, secret


def test_a_kept_key_costs_one_statement_and_issues_a_working_token(post_token, kept, django_assert_num_queries):
    key, secret = kept
    with django_assert_num_queries(1):
        response = _token(post_token, key, secret)
    assert response.status_code == 200
    body = response.json()
    assert set(body["scope"].split()) == {*key.scopes.values_list("name", flat=True), "tenant=acme"}
    assert AccessToken.objects.filter(key=key).count() == 2
    assert counted_in_memory(key.pk, usage.ISSUED) == {usage.OPERATION_TOKEN: 2}


def test_a_wrong_secret_takes_the_full_check_whether_or_not_the_key_is_kept(
    post_token, kept, django_assert_num_queries
):
    key, secret = kept
    with django_assert_num_queries(2):  # the lookup, and the refusal's reason: as for any key
        assert _token(post_token, key, "wrong-" + secret).status_code == 401
    assert counted_in_memory(key.pk, usage.WRONG_SECRET) == {usage.OPERATION_TOKEN: 1}
    assert _token(post_token, key, secret).status_code == 200


def test_nothing_kept_is_a_secret(kept):
    _, secret = kept
    assert secret not in repr(auth._kept) and secret.encode() not in repr(auth._kept).encode()


@pytest.mark.parametrize(
    "change",
    ["disable", "delete", "renew now", "expiry passes", "renew deadline passes", "grace ends", "network"],
)
def test_a_key_that_stopped_working_issues_nothing_from_what_was_kept(post_token, kept, change):
    key, secret = kept
    now = timezone.now()
    moment = None  # the changes that take no time are tried at once
    if change == "disable":
        key_disable(key=key)
    elif change == "delete":
        key_delete(key=key)
    elif change == "renew now":
        key_renew(key=key)
    elif change == "expiry passes":
        key_expiry_set(key=key, expires_at=now + timedelta(days=1))
        assert _token(post_token, key, secret).status_code == 200  # kept again, with its expiry
        moment = now + timedelta(days=1, seconds=1)
    elif change == "renew deadline passes":
        ApiKey.objects.filter(pk=key.pk).update(renew_by=now + timedelta(hours=1))
        moment = now + timedelta(hours=1, seconds=1)
    elif change == "grace ends":
        _, _, new_secret = key_renew(key=key, grace=timedelta(hours=1))
        assert _token(post_token, key, secret).status_code == 200  # the old secret, in its grace
        assert _token(post_token, key, new_secret).status_code == 200
        moment = now + timedelta(hours=1, seconds=1)
    elif change == "network":
        key_networks_set(key=key, allowed_networks="10.9.0.0/16")
    tokens = AccessToken.objects.count()
    with time_machine.travel(moment or timezone.now(), tick=False):
        response = _token(post_token, key, secret)
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    assert AccessToken.objects.count() == tokens


def test_a_changed_key_answers_with_what_it_says_now(post_token, kept):
    key, secret = kept
    key_token_lifetime_set(key=key, seconds=120)
    assert _token(post_token, key, secret).json()["expires_in"] == 120
    narrowed = list(key.scopes.order_by("name")[:1])
    key_update(key=key, name=key.name, scopes=narrowed)
    assert _token(post_token, key, secret).json()["scope"] == f"{narrowed[0].name} tenant=acme"
    widened = list(Scope.objects.offered().order_by("name")[:5])
    key_update(key=key, name=key.name, scopes=widened)
    asked = widened[4].name  # a scope the key did not hold when it was kept
    response = post_token(
        {"grant_type": "client_credentials", "client_id": key.client_id, "client_secret": secret, "scope": asked}
    )
    assert response.status_code == 200 and response.json()["scope"] == asked


def test_a_limit_set_on_a_kept_key_counts_from_the_next_request(post_token, kept):
    key, secret = kept
    key_rate_limit_set(key=key, limit=2, period="minute")
    with time_machine.travel(timezone.now(), tick=False):
        assert [_token(post_token, key, secret).status_code for _ in range(3)] == [200, 200, 429]
    key_rate_limit_set(key=key, limit=None, period="minute")
    assert [_token(post_token, key, secret).status_code for _ in range(3)] == [200, 200, 200]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a second connection to PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_a_change_made_by_another_connection_is_seen_at_once(catalogue, post_token, custom):
    """A write that sends no signal (another worker, another instance, an operator's SQL)."""
    key, secret = custom
    assert [_token(post_token, key, secret).status_code for _ in range(2)] == [200, 200]
    assert key.client_id in auth._kept
    settings = connection.settings_dict
    with psycopg.connect(
        dbname=settings["NAME"], user=settings["USER"], host=settings["HOST"], port=settings["PORT"], autocommit=True
    ) as other:
        other.execute("UPDATE apikeys_apikey SET disabled_at = now() WHERE id = %s", [key.pk])
    assert _token(post_token, key, secret).status_code == 401
    assert key.client_id not in auth._kept
