"""One key-hygiene run at a time (kernel/locks.py): two `manage.py key_hygiene` processes
started together, as the daily timers of two hosts start them, do one run's work: one digest
per tenant, one "Key expired" entry per key, one webhook event. On PostgreSQL, the only
database several hosts share."""

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from activity.models import Action, ActivityEntry
from apikeys.hygiene import LOCK_KEY, hygiene_run
from apikeys.models import ApiKey, KeyKind
from apikeys.services import key_create
from kernel.locks import file_lock, run_alone
from scopes.models import Scope
from webhooks.models import Delivery, Event
from webhooks.services import endpoint_create

ROOT = Path(__file__).resolve().parents[2]
MESSAGE = "Another key-hygiene run holds the lock; this run did nothing."
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="hosts share only PostgreSQL")


def _expired_key(tenant, name: str) -> ApiKey:
    key, _ = key_create(
        tenant=tenant,
        kind=KeyKind.CUSTOM,
        name=name,
        scopes=Scope.objects.filter(name="tax.tax_read"),
        expires_at=timezone.now() + timedelta(days=30),
    )
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    return key


def _database_url() -> str:
    db = connection.settings_dict  # the test database
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _blocked_on(db: psycopg.Connection, table: str) -> int:
    """How many sessions of the test database wait for a lock on a statement naming `table`."""
    return db.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND query LIKE %s",
        [f"%{table}%"],
    ).fetchone()[0]


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_runs_started_together_do_the_work_once(acme, globex, catalogue, smtp_server, tmp_path):
    keys = [_expired_key(acme, "Orders"), _expired_key(acme, "Stock"), _expired_key(globex, "Billing")]
    endpoint_create(tenant=acme, url="http://127.0.0.1:9/hook", event_types=["key.expired"])
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": _database_url(),
        "SECRET_KEY": "hygiene-test-secret-key",
        "PORTAL_ENCRYPTION_KEYS": settings.PORTAL_ENCRYPTION_KEYS,
        "EMAIL_URL": f"smtp://{settings.EMAIL_HOST}:{settings.EMAIL_PORT}",
        "CACHE_URL": "locmemcache://hygiene",
        "LOG_FORMAT": "plain",
        # The runs wait behind the test's table lock (the barrier below): longer than the
        # default 2 s, but not for ever.
        "DB_LOCK_TIMEOUT": "30000",
        "DB_STATEMENT_TIMEOUT": "30000",
    }
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"], dbname=db["NAME"]
    ) as barrier:
        # The barrier: the keys table locked, so that each run, once it holds (or not) the run
        # lock, stops at its first query until both are there; then both go on at once.
        barrier.execute("LOCK TABLE apikeys_apikey IN ACCESS EXCLUSIVE MODE")
        runs = [
            subprocess.Popen(
                [sys.executable, "manage.py", "key_hygiene"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        with psycopg.connect(
            host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"], dbname=db["NAME"], autocommit=True
        ) as observer:
            deadline = time.monotonic() + 60
            while True:
                waiting = _blocked_on(observer, "apikeys_apikey")
                ended = sum(run.poll() is not None for run in runs)
                if waiting and waiting + ended == len(runs):
                    break
                assert time.monotonic() < deadline, [run.poll() for run in runs]
                time.sleep(0.05)
        barrier.rollback()  # both released together
    outputs = [run.communicate(timeout=60) for run in runs]

    assert [run.returncode for run in runs] == [0, 0], outputs
    stdouts = [out.strip() for out, _ in outputs]
    # One digest per tenant, each naming its expired keys once.
    assert sorted(message["X-Envelope-To"] for message in smtp_server.messages) == [
        "alice@example.com",
        "charlie@example.com",
    ]
    for key in keys:
        assert ActivityEntry.objects.filter(key=key, action=Action.KEY_EXPIRED).count() == 1
    assert Event.objects.filter(type="key.expired").count() == 2  # acme's two keys
    assert Delivery.objects.count() == 2
    assert stdouts.count(MESSAGE) == 1, outputs  # the other run found the lock held
    assert next(out for out in stdouts if out != MESSAGE).startswith("0 reminders, 3 keys expired"), outputs


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_run_while_another_holds_the_lock_does_nothing(acme, catalogue, smtp_server):
    _expired_key(acme, "Orders")
    with psycopg.connect(
        host=connection.settings_dict["HOST"] or "127.0.0.1",
        port=connection.settings_dict["PORT"] or 5432,
        user=connection.settings_dict["USER"],
        dbname=connection.settings_dict["NAME"],
        autocommit=True,
    ) as other_host:
        other_host.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        assert hygiene_run() is None
        assert not smtp_server.messages and not ActivityEntry.objects.filter(action=Action.KEY_EXPIRED).exists()
        other_host.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
    assert hygiene_run().expired == 1
    # Released after the run: the next one takes it again (and finds nothing left to do).
    assert hygiene_run().expired == 0


def test_a_file_lock_is_held_once(tmp_path):
    """SQLite's lock: another open file (here in the same process; flock locks belong to the
    open file) does not get it until it is released."""
    path = tmp_path / "db.sqlite3.key_hygiene.lock"
    with file_lock(path) as first, file_lock(path) as second:
        assert (first, second) == (True, False)
    with file_lock(path) as again:
        assert again


@pytest.mark.django_db
def test_run_alone_on_this_database(acme):
    with run_alone("key_hygiene", LOCK_KEY) as alone:
        assert alone
