"""The usage tests' roll-up rows, made directly as the flush leaves them: each count in the
hour's and the day's table alike (and the minute's, which the pages do not read). Test modules
import `frozen` (a fixture) from here rather than from a conftest.py."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from usage.models import DayUsage, HourUsage, MinuteUsage

# A fixed now, 40 minutes into an hour: buckets are easy to name from it.
NOW = datetime(2026, 12, 7, 10, 40, tzinfo=UTC)
THIS_HOUR = NOW.replace(minute=0)


def hours_ago(hours: int) -> datetime:
    return THIS_HOUR - timedelta(hours=hours)


def record(key, operation: str, outcome: str, calls: int, at: datetime, *, tenant=None, secret_id=None) -> None:
    """`calls` calls of `key` at `at`, in the minute, hour and day roll-ups."""
    tenant_id = tenant.pk if tenant is not None else key.tenant_id if key is not None else None
    fields = {
        "tenant_id": tenant_id,
        "key": key,
        "secret_id": secret_id,
        "operation": operation,
        "outcome": outcome,
    }
    for model, bucket in (
        (MinuteUsage, at.replace(second=0, microsecond=0)),
        (HourUsage, at.replace(minute=0, second=0, microsecond=0)),
        (DayUsage, at.replace(hour=0, minute=0, second=0, microsecond=0)),
    ):
        row, created = model.objects.get_or_create(bucket=bucket, defaults={"calls": calls}, **fields)
        if not created:
            row.calls += calls
            row.save(update_fields=["calls"])


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield NOW
