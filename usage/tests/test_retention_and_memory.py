"""What is kept: the roll-ups per minute for USAGE_KEEP_MINUTES_HOURS, per hour for
USAGE_KEEP_HOURS_DAYS and per day for USAGE_KEEP_DAYS_DAYS, to the bucket (the clock is moved,
not waited for); in memory, at most MAX_KEPT_COUNTERS counters while the hand-on fails, the
oldest minutes dropped and said once; a forked process starts from nothing of its parent's."""

import logging
import os
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from kernel import usage
from usage.flush import prune
from usage.models import DayUsage, FlushedBatch, HourUsage, MinuteUsage

NOW = datetime(2026, 12, 7, 10, 30, tzinfo=UTC)


def _row(table, bucket: datetime, acme) -> None:
    table.objects.create(bucket=bucket, tenant=acme, operation="x", outcome=usage.ALLOWED, calls=1)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("table", "setting", "unit", "value"),
    [
        (MinuteUsage, "USAGE_KEEP_MINUTES_HOURS", "hours", 48),
        (HourUsage, "USAGE_KEEP_HOURS_DAYS", "days", 30),
        (DayUsage, "USAGE_KEEP_DAYS_DAYS", "days", 400),
        (DayUsage, "USAGE_KEEP_DAYS_DAYS", "days", 7),
    ],
)
def test_prune_keeps_exactly_what_the_settings_say(table, setting, unit, value, acme, settings):
    setattr(settings, setting, value)
    cutoff = NOW - timedelta(**{unit: value})
    for bucket in (cutoff - timedelta(seconds=1), cutoff, cutoff + timedelta(minutes=1), NOW):
        _row(table, bucket, acme)
    with time_machine.travel(NOW, tick=False):
        pruned = prune()
    assert sorted(table.objects.values_list("bucket", flat=True)) == [cutoff, cutoff + timedelta(minutes=1), NOW]
    assert sum(pruned.values()) == 1


@pytest.mark.django_db
def test_prune_deletes_in_chunks_and_forgets_old_batches(acme, monkeypatch):
    monkeypatch.setattr("usage.flush.PRUNE_CHUNK", 3)
    for minutes in range(10):
        _row(MinuteUsage, NOW - timedelta(days=3, minutes=minutes), acme)
    FlushedBatch.objects.create(name="old", flushed_at=NOW - timedelta(days=1, seconds=1))
    FlushedBatch.objects.create(name="new", flushed_at=NOW - timedelta(hours=23))
    with time_machine.travel(NOW, tick=False):
        assert prune() == {"minute": 10, "hour": 0, "day": 0, "batches": 1}
    assert list(FlushedBatch.objects.values_list("name", flat=True)) == ["new"]


def test_memory_is_capped_while_the_hand_on_fails_and_the_loss_is_said_once(settings, monkeypatch, caplog):
    # A Redis that refuses at once (nothing listens on port 1).
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    monkeypatch.setattr(usage, "MAX_KEPT_COUNTERS", 5)
    monkeypatch.setattr(usage, "_last_warning", {})
    monkeypatch.setattr(usage, "_dropped", 0)
    caplog.set_level(logging.WARNING, logger="kernel.usage")
    start = int(NOW.timestamp())
    for push in range(4):  # four failed pushes of two counters each, (push + 1) calls per counter
        for minute in (2 * push, 2 * push + 1):
            for _ in range(push + 1):
                usage.count(tenant_id=1, key_id=2, secret_id=3, operation="x", outcome="y", now=start + 60 * minute)
        assert not usage.push()
    # 8 counters waited, past 5: the two oldest pushes (2 + 4 calls) went; the two newest wait.
    assert [sum(p.counts.values()) for p in usage._pending] == [6, 8]
    # Said once: the first drop at once, the next one's calls kept for the next warning.
    assert "2 calls dropped" in caplog.text and "Usage counts kept in memory" in caplog.text
    assert caplog.text.count("dropped") == 1 and caplog.text.count("kept in memory") == 1
    assert usage._dropped == 4


def test_a_forked_process_starts_without_its_parents_counts(settings):
    usage.count(tenant_id=1, key_id=2, secret_id=3, operation="x", outcome=usage.ALLOWED)
    child = os.fork()
    if child == 0:  # the child: nothing counted, no thread
        counts, _ = usage.drain()
        os._exit(0 if not counts and usage._thread is None else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    counts, _ = usage.drain()
    assert sum(counts.values()) == 1  # the parent still holds its own
