"""The PostgreSQL backend (kernel/postgresql/base.py): the connection pool hands out a sound
connection without an extra round trip, still replaces one the server has ended, and the
token service's statements are prepared on the server (Django's server_side_binding with a
prepare_threshold) and still in the query log."""

import time

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from psycopg_pool import ConnectionPool

from kernel.postgresql import base
from oauth.services import client_credentials_grant

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL backend's pool")


@pytest.fixture
def full_checks(monkeypatch):
    """The connections the pool's own check (an empty query) was run on."""
    checked = []
    real = ConnectionPool.check_connection

    def counting(conn):
        checked.append(conn)
        real(conn)

    monkeypatch.setattr(ConnectionPool, "check_connection", staticmethod(counting))
    return checked


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    connection.close()  # back to the pool
    return pid


@pytest.mark.django_db(transaction=True)
def test_a_sound_connection_in_use_is_handed_out_without_a_query(full_checks):
    for _ in range(10):  # each pooled connection gets its first, full check
        _backend_pid()
    assert isinstance(connection.pool._check, base.QuickCheck)
    before = len(full_checks)
    for _ in range(20):
        _backend_pid()
    assert len(full_checks) == before


@pytest.mark.django_db(transaction=True)
def test_a_connection_quiet_for_longer_gets_the_full_check(full_checks, monkeypatch):
    _backend_pid()
    monkeypatch.setattr(base, "FULL_CHECK_INTERVAL", 0.0)
    before = len(full_checks)
    _backend_pid()
    assert len(full_checks) == before + 1


@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_ended_is_replaced_before_a_request_uses_it():
    pids = {_backend_pid() for _ in range(5)}
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"], dbname="postgres", autocommit=True
    ) as admin:
        # With a timeout, pg_terminate_backend returns once the backend has ended (true), so its
        # goodbye has reached the pooled sockets: no fixed wait for it.
        ended = admin.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [settings["NAME"]],
        ).fetchall()
    assert ended and all(row[0] for row in ended) and pids
    started = time.monotonic()
    assert _backend_pid() not in pids  # no request sees a dead connection ...
    assert time.monotonic() - started < 0.9  # ... nor waits for psycopg's second-long backoff
    for _ in range(3):
        assert _backend_pid() not in pids


@pytest.mark.django_db
def test_the_token_services_hot_statements_are_prepared_and_logged(acme_secrets):
    """The key's lookup and the token INSERT on a key's first request in a process, the
    guarded INSERT on its later ones (apikeys.auth.key_kept): each is prepared on its second
    execution, and logged with its values like any other query."""
    from apikeys.auth import key_forget

    key, secret = acme_secrets["emporix"]
    with CaptureQueriesContext(connection) as queries:
        for forget in (True, False, False, True):  # lookup, guarded, guarded, lookup
            if forget:
                key_forget(key.client_id)
            outcome = client_credentials_grant(
                client_id=key.client_id,
                client_secret=secret,
                grant_type="client_credentials",
                scope=None,
                address="192.0.2.1",
            )
            assert outcome.status == 200
    sent = [query["sql"] for query in queries.captured_queries]
    # The query log holds each statement with its values, as for any other query.
    lookups = [sql for sql in sent if sql.startswith("SELECT") and key.client_id in sql]
    guarded = [sql for sql in sent if sql.startswith('INSERT INTO "oauth_accesstoken"') and "EXISTS" in sql]
    plain = [sql for sql in sent if sql.startswith('INSERT INTO "oauth_accesstoken"') and "EXISTS" not in sql]
    # The first INSERT finds no scope set yet: it is stored, and the INSERT sent again.
    assert (len(lookups), len(guarded), len(plain)) == (2, 2, 3)
    assert all(key.client_id in sql for sql in guarded)
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any(s.startswith("SELECT") and 'FROM "apikeys_apisecret"' in s and "$1" in s for s in prepared)
    assert any(s.startswith('INSERT INTO "oauth_accesstoken"') and "EXISTS" in s and "$1" in s for s in prepared)
    assert any(s.startswith('INSERT INTO "oauth_accesstoken"') and "EXISTS" not in s for s in prepared)


@pytest.mark.parametrize(("switch", "expected"), [("on", "1"), ("off", "None")])
def test_prepared_statements_can_be_turned_off_for_a_pooler(switch, expected):
    from conftest import run_manage

    show = "from django.db import connection; print(connection.settings_dict['OPTIONS'].get('prepare_threshold'))"
    result = run_manage(
        ["shell", "-c", show],
        {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/portal", "DATABASE_PREPARED_STATEMENTS": switch},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == expected
