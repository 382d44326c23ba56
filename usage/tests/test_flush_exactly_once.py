"""The flush counts every call exactly once: a `usage_flush --forever` process killed with
SIGKILL in the middle of a flush and started again leaves the roll-ups holding what was counted,
no more, no less; a batch written and not yet deleted (its worker died between the two) is
deleted, not written again; counts pushed while a flush runs are taken by the next one."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from apikeys.services import key_create
from conftest import ROOT, wait_until
from kernel import usage
from scopes.models import Scope
from usage.flush import Flusher
from usage.models import DayUsage, FlushedBatch, FlushWorker, HourUsage, MinuteUsage

MINUTE = int(time.time() - 12 * 3600) // 60 * 60  # within the minute roll-ups' 48 hours


def total(table) -> int:
    return table.objects.aggregate(calls=Sum("calls"))["calls"] or 0


@pytest.fixture
def key(acme):
    key, _ = key_create(
        tenant=acme, kind="custom", name="Busy", scopes=Scope.objects.filter(name="customer.customer_read")
    )
    return key


def count_minutes(key, minutes: int, per_minute: int = 3, start: int = MINUTE) -> int:
    """Count calls over `minutes` minutes from `start` (several counters each), push them; how
    many."""
    for minute in range(minutes):
        for outcome in (usage.ALLOWED, usage.INSUFFICIENT_SCOPE, usage.INVALID_TOKEN)[:per_minute]:
            usage.count(
                tenant_id=key.tenant_id,
                key_id=key.pk,
                secret_id=7,
                operation="GET-customer",
                outcome=outcome,
                now=start + 60 * minute,
            )
    assert usage.push()
    return minutes * per_minute


@pytest.mark.django_db
@pytest.mark.outside  # redis-server
def test_a_batch_written_but_not_deleted_is_not_written_again(key, on_redis, monkeypatch):
    calls = count_minutes(key, 5)
    dying = Flusher()
    dying.take()
    batches = dying.pending()
    # The worker commits its first batch and dies before deleting it from Redis.
    monkeypatch.setattr(Flusher, "_forget", lambda self, batch: None)
    dying.apply(batches[0])
    monkeypatch.undo()
    assert FlushedBatch.objects.filter(name=batches[0]).exists()
    assert on_redis.client.exists(batches[0])
    Flusher().flush()  # the next worker
    assert total(MinuteUsage) == total(HourUsage) == total(DayUsage) == calls
    assert not on_redis.client.keys("*usage:batch*")


@pytest.mark.django_db
@pytest.mark.outside  # redis-server
def test_counts_pushed_while_a_minute_is_taken_go_to_the_next_flush(key, on_redis):
    count_minutes(key, 1)
    flusher = Flusher()
    flusher.take()
    count_minutes(key, 1)  # the same minute again: a new hash, after the take
    for batch in flusher.pending():
        flusher.apply(batch)
    assert total(MinuteUsage) == 3
    flusher.flush()
    assert total(MinuteUsage) == 6
    assert MinuteUsage.objects.count() == 3  # added to the same rows


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _worker(redis_url: str) -> subprocess.Popen:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": _database_url(),
        "SECRET_KEY": "usage-flush-test-secret-key",
        "PORTAL_ENCRYPTION_KEYS": django_settings.PORTAL_ENCRYPTION_KEYS,
        "EMAIL_URL": "filemail://",
        "CACHE_URL": redis_url,
        "LOG_FORMAT": "plain",
        "USAGE_FLUSH_SECONDS": "0.2",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "usage_flush", "--forever"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.outside  # redis-server and worker processes
@pytest.mark.skipif(connection.vendor != "postgresql", reason="worker processes need a shared PostgreSQL database")
def test_a_worker_killed_mid_flush_and_started_again_counts_each_call_once(catalogue, key, on_redis):
    calls = count_minutes(key, 600)  # 600 minutes' hashes: a flush of many transactions
    worker = _worker(on_redis.url)
    try:
        # Killed once it has written some batches and not all of them.
        wait_until(lambda: FlushedBatch.objects.exists(), 60, what="the first batch written")
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    written = total(MinuteUsage)
    assert 0 < written < calls, "the worker was not killed in the middle of its flush"
    assert on_redis.client.scard(":1:usage:batches") > 0  # taken and not finished
    # More counts arrive meanwhile; a new worker finishes the batches and takes these too.
    calls += count_minutes(key, 2, start=MINUTE + 600 * 60)
    worker = _worker(on_redis.url)
    try:
        wait_until(
            lambda: total(DayUsage) == calls and not on_redis.client.keys("*usage:batch*"),
            60,
            what=lambda: f"every call flushed (day roll-up holds {total(DayUsage)} of {calls})",
        )
        wait_until(FlushWorker.objects.exists, 30, what="the worker's heartbeat")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    assert total(MinuteUsage) == total(HourUsage) == total(DayUsage) == calls
    assert MinuteUsage.objects.count() == calls  # one row per minute and outcome: none twice


@pytest.mark.django_db
@pytest.mark.outside  # redis-server
def test_usage_flush_once_flushes_and_prunes(key, on_redis):
    calls = count_minutes(key, 4)
    out = StringIO()
    call_command("usage_flush", stdout=out)
    assert f"{calls} call(s) flushed" in out.getvalue()
    assert total(MinuteUsage) == total(DayUsage) == calls


@pytest.mark.django_db
def test_without_redis_usage_flush_only_prunes(acme, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    MinuteUsage.objects.create(
        bucket=timezone.now() - timedelta(days=3), tenant=acme, operation="x", outcome="allowed", calls=1
    )
    out = StringIO()
    call_command("usage_flush", stdout=out)
    assert "0 call(s) flushed" in out.getvalue() and not MinuteUsage.objects.exists()
