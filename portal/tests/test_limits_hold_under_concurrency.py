"""Many failures at once, each in its own thread and database connection: never more than
the limit get their credentials checked and answered 401 (or the form again); the rest are
429. Runs on PostgreSQL (threads on SQLite would serialise on its lock)."""

from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client

from conftest import PASSWORD, all_at_once

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent connections need PostgreSQL"),
]

FORM = "application/x-www-form-urlencoded"
THREADS = 24
LIMIT = 5


def statuses_at_once(request) -> list[int]:
    """request(client) in THREADS threads at once, all from one address; their status codes."""
    return all_at_once(THREADS, lambda: request(Client(REMOTE_ADDR="10.20.30.40")).status_code)


def test_concurrent_wrong_secrets_never_get_past_the_limit(catalogue, acme_secrets, settings):
    settings.AUTH_FAILURE_LIMIT_PER_CLIENT = LIMIT
    key, secret = acme_secrets["emporix"]
    form = {"grant_type": "client_credentials", "client_id": key.client_id, "client_secret": "wrong"}

    def token(client, **changes):
        return client.post("/oauth/token", urlencode({**form, **changes}), content_type=FORM)

    statuses = statuses_at_once(token)
    assert sorted(statuses) == [401] * LIMIT + [429] * (THREADS - LIMIT)
    # The right secret still works from that very address.
    assert token(Client(REMOTE_ADDR="10.20.30.40"), client_secret=secret).status_code == 200


def test_concurrent_wrong_passwords_never_get_past_the_limit(catalogue, alice, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_EMAIL = LIMIT
    form = {"username": "alice@example.com", "password": "wrong"}
    statuses = statuses_at_once(lambda client: client.post("/accounts/login/", form))
    assert sorted(statuses) == [200] * LIMIT + [429] * (THREADS - LIMIT)
    fresh = Client(REMOTE_ADDR="10.20.30.41").post("/accounts/login/", {**form, "password": PASSWORD})
    assert fresh.status_code == 302
