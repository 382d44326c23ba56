#!/usr/bin/env python3
"""Benchmark of the usage flush (docs/usage.md): does `usage_flush` keep up with 20,000 counted
events per second?

Starts a redis-server of its own on a free port (never a shared one), creates (or reuses) the
PostgreSQL database BENCH_DATABASE_URL (default portal_bench on 127.0.0.1) and in it a tenant
with BENCH_USAGE_KEYS keys (default 2,000). Then, for BENCH_USAGE_MINUTES minutes (default 3):

  count    BENCH_USAGE_RATE events per second (default 20,000) for a minute, through
           kernel.usage.count() as the portal's processes count them: spread over every key,
           10 operations and 3 outcomes (up to 60,000 distinct counters a minute, far more
           than a real minute holds), pushed to Redis as the processes push them
  flush    one `usage_flush` pass (usage.flush.Flusher): that minute into the roll-ups per
           minute, hour and day

and prints, per minute and overall, the events and distinct counters written, the flush's time
and the events per second it wrote. It keeps up if it writes a minute of events in well under
a minute (USAGE_FLUSH_SECONDS is 10 by default).
"""

import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import harness  # noqa: E402

DATABASE = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench")
KEYS = int(os.environ.get("BENCH_USAGE_KEYS", "2000"))
RATE = int(os.environ.get("BENCH_USAGE_RATE", "20000"))
MINUTES = int(os.environ.get("BENCH_USAGE_MINUTES", "3"))
OPERATIONS = [f"GET-bench-operation-{n}" for n in range(10)]
OUTCOMES = ["allowed", "insufficient_scope", "invalid_token"]
REDIS_SERVER = "/usr/bin/redis-server"


def start_redis(port: int) -> subprocess.Popen:
    command = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL)


def setup(redis_url: str) -> None:
    os.environ.update(
        DATABASE_URL=DATABASE,
        CACHE_URL=redis_url,
        DJANGO_SETTINGS_MODULE="portal.settings",
        SECRET_KEY="bench-only-secret-key",
        PORTAL_ENCRYPTION_KEYS="bench1:9Nf0cS4aYV9V7lQ4w3bq0wqvEx0nq2Ff8a3sOq0kq7M=",
        EMAIL_URL="filemail://",
        EMAIL_FILE_PATH=os.path.join(tempfile.gettempdir(), "portal-bench-mail"),
        LOG_LEVEL="WARNING",
        USAGE_PUSH_SECONDS="0",  # pushed by hand below, as each process's thread would
    )
    import django

    django.setup()


def bench_keys() -> list[tuple[int, int]]:
    """(tenant id, key id) of KEYS keys of a fresh bench tenant."""
    from apikeys.models import ApiKey
    from kernel import crypto
    from tenants.models import Tenant

    tenant = Tenant.objects.create(code="usage" + time.strftime("%m%d%H%M%S"), name="Usage bench")
    keys = ApiKey.objects.bulk_create(
        ApiKey(tenant=tenant, kind="custom", name=f"Bench {n:05}", client_id=crypto.generate_client_id())
        for n in range(KEYS)
    )
    return [(tenant.pk, key.pk) for key in keys]


def count_a_minute(keys: list[tuple[int, int]], minute: int) -> int:
    """RATE x 60 events of `minute`, counted and pushed in one-second slices (as a process's
    thread pushes every USAGE_PUSH_SECONDS); the distinct counters."""
    from kernel import usage

    rng = random.Random(minute)
    distinct = set()
    for second in range(60):
        for _ in range(RATE):
            tenant_id, key_id = rng.choice(keys)
            operation, outcome = rng.choice(OPERATIONS), rng.choice(OUTCOMES)
            usage.count(
                tenant_id=tenant_id,
                key_id=key_id,
                secret_id=key_id,
                operation=operation,
                outcome=outcome,
                now=minute + second,
            )
            distinct.add((key_id, operation, outcome))
        assert usage.push(), "the push to Redis failed"
    return len(distinct)


def main() -> None:
    harness.ensure_database(DATABASE)
    (port,) = harness.free_ports(1)
    redis = start_redis(port)
    try:
        harness_env = {**os.environ, "DATABASE_URL": DATABASE, "CACHE_URL": f"redis://127.0.0.1:{port}/0"}
        harness_env.update(
            DJANGO_SETTINGS_MODULE="portal.settings",
            SECRET_KEY="bench-only-secret-key",
            PORTAL_ENCRYPTION_KEYS="bench1:9Nf0cS4aYV9V7lQ4w3bq0wqvEx0nq2Ff8a3sOq0kq7M=",
            EMAIL_URL="filemail://",
        )
        harness.manage(harness_env, "migrate", "--noinput")
        setup(f"redis://127.0.0.1:{port}/0")
        from usage.flush import Flusher

        keys = bench_keys()
        flusher = Flusher()
        start = int(time.time() // 60 * 60) - 60 * MINUTES  # recent minutes, as in production
        total_events, total_seconds = 0, 0.0
        print(f"{RATE} events/s counted over {KEYS} keys, {len(OPERATIONS)} operations, {len(OUTCOMES)} outcomes")
        print(f"{'minute':<7} {'events':>9} {'counters':>9} {'flush s':>8} {'events/s written':>17}")
        for number in range(MINUTES):
            distinct = count_a_minute(keys, start + 60 * number)
            began = time.perf_counter()
            written = flusher.flush()
            seconds = time.perf_counter() - began
            assert written == RATE * 60, f"flushed {written} of {RATE * 60} events"
            total_events += written
            total_seconds += seconds
            print(f"{number + 1:<7} {written:>9} {distinct:>9} {seconds:>8.2f} {written / seconds:>17.0f}")
        rate = total_events / total_seconds
        print(
            f"overall: {total_events} events written in {total_seconds:.2f} s of flushing: {rate:.0f} events/s, "
            f"{rate / RATE:.1f}x the {RATE} events/s counted "
            f"({'keeps up' if rate >= RATE else 'does NOT keep up'})"
        )
    finally:
        redis.terminate()
        redis.wait(timeout=10)


if __name__ == "__main__":
    main()
