"""Concurrent renews of one key on PostgreSQL: the key row lock serialises them, so none is
lost and exactly one current secret remains."""

import pytest
from django.db import connection

from apikeys.models import ApiSecret
from apikeys.services import key_renew
from conftest import all_at_once

pytestmark = pytest.mark.django_db(transaction=True)

RENEWS = 6


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_parallel_renews_leave_one_current_secret_and_lose_none(catalogue, acme_secrets):
    key, _first = acme_secrets["emporix"]
    made = all_at_once(RENEWS, lambda: key_renew(key=key)[2])
    assert len(made) == RENEWS

    secrets = list(ApiSecret.objects.filter(key=key))
    assert len(secrets) == 1 + RENEWS
    assert [s.is_current for s in secrets].count(True) == 1
    assert ApiSecret.objects.filter(key=key).live().count() == 1
    # Every renewed-away secret is expired; the Client ID stayed.
    assert all(s.expires_at is not None for s in secrets if not s.is_current)
    key.refresh_from_db()
    assert key.client_id == acme_secrets["emporix"][0].client_id
