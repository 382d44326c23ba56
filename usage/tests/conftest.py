import pytest
from django.db.models import Sum

from kernel import usage
from portal.settings import cache_config
from portal.tests.test_cache_outage import RedisServer
from usage.models import DayUsage, HourUsage, MinuteUsage


@pytest.fixture
def redis_server():
    """A redis-server of this test's own, on a free port (never the shared one)."""
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture
def on_redis(redis_server, settings):
    """The default cache is `redis_server`, as with CACHE_URL=redis://...: the processes push
    their counts there and usage_flush moves them into the roll-ups."""
    settings.CACHES = {"default": cache_config(redis_server.url)}
    return redis_server


def rollup(table) -> dict[tuple, int]:
    """A roll-up table's calls per (key, secret, operation, outcome), summed over buckets."""
    rows = table.objects.values_list("key_id", "secret_id", "operation", "outcome").annotate(calls=Sum("calls"))
    return {row[:4]: row[4] for row in rows}


def rollups() -> list[dict[tuple, int]]:
    """What the minute, hour and day roll-ups each hold (they hold the same calls)."""
    return [rollup(table) for table in (MinuteUsage, HourUsage, DayUsage)]


def counted() -> dict[tuple, int]:
    """What this process holds in memory, not yet handed on, per (key, secret, operation, outcome)."""
    counts, seen = usage.drain()
    summed: dict[tuple, int] = {}
    for counter, calls in counts.items():
        row = (counter.key_id, counter.secret_id, counter.operation, counter.outcome)
        summed[row] = summed.get(row, 0) + calls
    usage.restore(counts, seen)
    return summed
