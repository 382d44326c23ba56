import os
import signal
import subprocess

import pytest
import redis
from django.db.models import Sum

from conftest import free_port, wait_until
from kernel import usage
from portal.settings import cache_config
from usage.models import DayUsage, HourUsage, MinuteUsage

REDIS_SERVER = "/usr/bin/redis-server"


class RedisServer:
    """A redis-server of a test's own on a free port (never the shared one), without
    persistence: killed, it loses what it held, as a Redis without AOF does."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.client = redis.Redis.from_url(self.url, socket_timeout=5)
        self.start()

    def start(self) -> None:
        command = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        wait_until(self.client.ping, 10, what="redis-server answering", ignoring=(redis.RedisError,))

    def freeze(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        self.thaw()
        self.process.kill()
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.kill()


@pytest.fixture
def redis_server():
    if not os.access(REDIS_SERVER, os.X_OK):
        pytest.skip("redis-server is not installed")
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
