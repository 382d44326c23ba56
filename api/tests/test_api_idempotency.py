"""Idempotency-Key on POSTs: a retry gets the first answer and causes no second effect, also
when two requests with the same key arrive together (PostgreSQL)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone

from activity.models import Action, ActivityEntry
from api.models import IdempotentResponse
from apikeys.models import ApiKey, ApiSecret
from conftest import all_at_once

from .conftest import TARGET_SCOPES

MANAGER = [*TARGET_SCOPES, "portal.key_read", "portal.key_manage"]
KEYS = "/api/v1/keys/"


@pytest.mark.django_db
def test_a_retried_create_returns_the_first_key(api, caller, acme):
    _, _, token = caller(acme, MANAGER)
    body = {"name": "Once", "scopes": ["tax.tax_read"]}
    first = api("post", KEYS, token, body, HTTP_IDEMPOTENCY_KEY="create-once-1")
    again = api("post", KEYS, token, body, HTTP_IDEMPOTENCY_KEY="create-once-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true" and again["Cache-Control"] == "no-store"
    assert ApiKey.objects.filter(name="Once").count() == 1
    assert ActivityEntry.objects.filter(action=Action.KEY_CREATED, key_name="Once").count() == 1
    # The stored answer holds the secret only encrypted.
    stored = IdempotentResponse.objects.get(idempotency_key="create-once-1")
    assert first.json()["secret"].encode() not in bytes(stored.ciphertext)
    # The same key for another request is refused.
    other = api("post", KEYS, token, {**body, "name": "Twice"}, HTTP_IDEMPOTENCY_KEY="create-once-1")
    assert other.status_code == 422 and other.json()["type"].endswith(":idempotency-key-reused")


@pytest.mark.django_db
def test_a_retried_renew_renews_once_and_keys_expire_after_a_day(api, caller, acme, target):
    key, _ = target
    _, _, token = caller(acme, MANAGER)
    url = f"{KEYS}{key.public_id}/renew/"
    first = api("post", url, token, {"grace_seconds": 60}, HTTP_IDEMPOTENCY_KEY="renew-1")
    again = api("post", url, token, {"grace_seconds": 60}, HTTP_IDEMPOTENCY_KEY="renew-1")
    assert first.status_code == again.status_code == 200
    assert again.json()["secret"] == first.json()["secret"]
    assert ApiSecret.objects.filter(key=key).count() == 2
    # A day later the key is forgotten (the access token would have expired: age the record).
    IdempotentResponse.objects.update(created_at=timezone.now() - timedelta(hours=24, seconds=1))
    later = api("post", url, token, {"grace_seconds": 60}, HTTP_IDEMPOTENCY_KEY="renew-1")
    assert later.status_code == 200 and later.json()["secret"] != first.json()["secret"]


@pytest.mark.django_db
def test_a_retry_whose_stored_answer_cannot_be_decrypted_is_a_clear_conflict(api, caller, acme, settings):
    # The encryption key that sealed the first answer was removed within its day.
    _, _, token = caller(acme, MANAGER)
    body = {"name": "Sealed", "scopes": ["tax.tax_read"]}
    assert api("post", KEYS, token, body, HTTP_IDEMPOTENCY_KEY="sealed-1").status_code == 201
    other_key = "test2:" + "B" * 43 + "="
    with override_settings(PORTAL_ENCRYPTION_KEYS=other_key):
        again = api("post", KEYS, token, body, HTTP_IDEMPOTENCY_KEY="sealed-1")
    assert again.status_code == 409 and again.json()["type"].endswith(":conflict")
    assert "cannot be decrypted" in again.json()["detail"] and again["Cache-Control"] == "no-store"
    assert ApiKey.objects.filter(name="Sealed").count() == 1


@pytest.mark.django_db
def test_a_failed_request_is_not_remembered(api, caller, acme):
    _, _, token = caller(acme, MANAGER)
    bad = api("post", KEYS, token, {"name": "Later", "scopes": ["nope.nope"]}, HTTP_IDEMPOTENCY_KEY="k1")
    assert bad.status_code == 400
    assert not IdempotentResponse.objects.exists()
    assert (
        api(
            "post", KEYS, token, {"name": "x" * 10, "scopes": ["tax.tax_read"]}, HTTP_IDEMPOTENCY_KEY="x" * 256
        ).status_code
        == 400
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the unique index wait needs PostgreSQL")
def test_parallel_requests_with_one_key_have_one_effect(catalogue, caller, acme):
    _, _, token = caller(acme, MANAGER)

    def create():
        response = Client().post(
            KEYS,
            {"name": "Parallel", "scopes": ["tax.tax_read"]},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
            HTTP_IDEMPOTENCY_KEY="parallel-1",
        )
        return response.status_code, response.json()

    results = all_at_once(4, create)
    assert {status for status, _ in results} == {201}
    assert len({body["id"] for _, body in results}) == 1
    assert len({body["secret"] for _, body in results}) == 1
    assert ApiKey.objects.filter(name="Parallel").count() == 1
