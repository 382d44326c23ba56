"""lock_timeout and statement_timeout on the portal's PostgreSQL sessions, against the tests'
own cluster (portal/tests/conftest.py: DB_LOCK_TIMEOUT=1000, DB_STATEMENT_TIMEOUT=1500): a row
lock held by another connection makes a renew answer promptly with a clear message and change
nothing, while the token endpoint goes on issuing (a token refers to its key and secret without
a foreign-key constraint, so issuing one takes no lock on them: docs/token-storage.md); a slow
query is cut off and answered 503."""

import os
import socket
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection

from kernel.postgresql.waits import WaitLimitedConnection

from .conftest import LOCK_TIMEOUT_MS, ROOT, STATEMENT_TIMEOUT_MS, csrf_post

LOCKS = {
    "the key row": "SELECT id FROM apikeys_apikey WHERE id = %(key)s FOR UPDATE",
    "the secret rows": "SELECT id FROM apikeys_apisecret WHERE key_id = %(key)s FOR UPDATE",
}


def _state(db, key_id: int) -> tuple:
    """Everything a renew would change: the key, its secrets, the activity log."""
    key = db.execute("SELECT renewed_at FROM apikeys_apikey WHERE id = %s", [key_id]).fetchall()
    secrets = db.execute(
        "SELECT id, digest, expires_at FROM apikeys_apisecret WHERE key_id = %s ORDER BY id", [key_id]
    ).fetchall()
    entries = db.execute("SELECT count(*) FROM activity_activityentry").fetchone()
    return key, secrets, entries


@pytest.mark.outside  # its own PostgreSQL cluster, gunicorn
@pytest.mark.parametrize("held", LOCKS)
def test_a_renew_behind_a_held_lock_fails_fast_and_changes_nothing(portal, cluster_up, held):
    alice = portal.login()
    with cluster_up.connect(autocommit=True) as db:
        key_id, public_id = db.execute(
            "SELECT id, public_id FROM apikeys_apikey WHERE client_id = %s", [portal.keys["emporix"]["client_id"]]
        ).fetchone()
        before = _state(db, key_id)
    renew_url = f"{portal.url}/tenants/acme/api-keys/{public_id}/renew/"

    with cluster_up.connect() as holder:  # an open transaction holding the lock
        holder.execute(LOCKS[held], {"key": key_id})
        started = time.monotonic()
        response = csrf_post(alice, renew_url, {"grace": "24h"})
        renew_seconds = time.monotonic() - started
        started = time.monotonic()
        token = portal.token()
        token_seconds = time.monotonic() - started
        holder.rollback()

    assert response.status_code == 409
    assert "This key is being changed by someone else; try again." in response.text
    assert 'value="24h" checked' in response.text  # the form keeps the choice
    assert token.status_code == 200 and token.json()["access_token"]  # not held up by the lock
    limit = LOCK_TIMEOUT_MS / 1000 + 1
    assert renew_seconds < limit and token_seconds < limit, (renew_seconds, token_seconds)
    with cluster_up.connect(autocommit=True) as db:
        assert _state(db, key_id) == before

    # Once the lock is gone, both work (and the renew really changes the key).
    assert csrf_post(alice, renew_url, {"grace": "now", "confirm": "now"}).status_code == 302
    with cluster_up.connect(autocommit=True) as db:
        assert _state(db, key_id) != before
    # The old secret stopped now; the other tests go on with the new one.
    revealed = alice.post(
        f"{portal.url}/tenants/acme/api-keys/{public_id}/secret/",
        {"purpose": "reveal", "csrfmiddlewaretoken": alice.cookies["csrftoken"]},
        headers={"Accept": "application/json"},
        timeout=5,
    )
    portal.keys["emporix"]["secret"] = revealed.json()["secret"]
    assert portal.token().status_code == 200


SLOW_INSERT = """
CREATE FUNCTION portal_test_slow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_sleep(30); RETURN NEW; END $$;
CREATE TRIGGER portal_test_slow BEFORE INSERT ON oauth_accesstoken
FOR EACH ROW EXECUTE FUNCTION portal_test_slow();
"""


@pytest.mark.outside  # its own PostgreSQL cluster, gunicorn
def test_a_slow_query_is_cut_at_the_statement_timeout_and_answered(portal, cluster_up):
    assert portal.token().status_code == 200
    mark = portal.log_mark()
    with cluster_up.connect(autocommit=True) as db:
        db.execute(SLOW_INSERT)
    try:
        started = time.monotonic()
        response = portal.token()
        seconds = time.monotonic() - started
    finally:
        with cluster_up.connect(autocommit=True) as db:
            db.execute("DROP TRIGGER portal_test_slow ON oauth_accesstoken; DROP FUNCTION portal_test_slow()")

    assert response.status_code == 503 and response.json()["error"] == "temporarily_unavailable"
    assert STATEMENT_TIMEOUT_MS / 1000 - 0.1 < seconds < STATEMENT_TIMEOUT_MS / 1000 + 1, seconds
    logged = "\n".join(portal.log_since(mark))
    assert "database unavailable: QueryCanceled: canceling statement due to statement timeout" in logged
    assert "Traceback" not in logged
    assert portal.token().status_code == 200


@pytest.mark.django_db
def test_the_portal_sessions_have_the_timeouts():
    if connection.vendor != "postgresql":
        assert settings.DATABASES["default"]["OPTIONS"]["timeout"] == 20  # SQLite's busy timeout
        return
    options = settings.DATABASES["default"]["OPTIONS"]
    assert options["connect_timeout"] == settings.DB_CONNECT_TIMEOUT == 3
    # Client-side: a peer that vanished, and a frozen one (test_database_frozen.py).
    assert settings.DB_CLIENT_TIMEOUT == 4000
    assert {name: options[name] for name in options if name.startswith(("keepalives", "tcp_"))} == {
        "keepalives": 1,
        "keepalives_idle": 10,
        "keepalives_interval": 3,
        "keepalives_count": 3,
        "tcp_user_timeout": 4000,
    }
    assert connection.pool is None or connection.pool.connection_class is WaitLimitedConnection
    with connection.cursor() as cursor:
        assert isinstance(connection.connection, WaitLimitedConnection)
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "3s"
        cursor.execute("SHOW lock_timeout")
        assert cursor.fetchone()[0] == "2s"


CONNECT = """
import time, django
django.setup()
from django.db import OperationalError, connection
started = time.monotonic()
try:
    connection.ensure_connection()
except OperationalError as exc:
    print(round(time.monotonic() - started, 2), str(exc).splitlines()[0])
"""


@pytest.mark.parametrize(
    ("pool", "limit", "message"),
    [
        # Without the pool, libpq's connect_timeout ends the attempt...
        ({"DATABASE_POOL_MAX_SIZE": "0", "DB_CONNECT_TIMEOUT": "2"}, 2, "timeout expired"),
        # ...with it (the default on PostgreSQL), the wait for a pooled connection does.
        ({"DATABASE_POOL_TIMEOUT": "1", "DB_CONNECT_TIMEOUT": "2"}, 1, "couldn't get a connection"),
    ],
)
def test_connecting_to_a_server_that_never_answers_gives_up_after_the_connect_timeout(pool, limit, message):
    # It accepts the TCP connection (the kernel does) and says nothing, like a hung server.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{silent.getsockname()[1]}/portal",
            **pool,
        }
        result = subprocess.run(
            [sys.executable, "-c", CONNECT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
        )
    seconds, text = result.stdout.split(" ", 1)
    assert limit - 0.1 < float(seconds) < limit + 1 and message in text, result
