#!/usr/bin/env python3
"""Server time of the keys page: a tenant with 5 custom keys against one with 5,000.

Creates (or reuses) the PostgreSQL database BENCH_DATABASE_URL (default portal_bench on
127.0.0.1), migrates it, and (re)creates two tenants, benchkeys5 and benchkeys5000, whose custom
keys hold 1 to 10 scopes each, every tenth with an old secret in its grace period. Then it
requests each tenant's keys page BENCH_REQUESTS times (default 30, alternating, after a warm-up)
through Django's test client in this process, DEBUG off, every middleware on, and prints the
median and p90 server time, the HTML size and the query count of each, and the ratio of the
medians (the budget: 2.0 at most).

`add_custom_keys` is also what apikeys/tests/test_key_list_scale.py fills its tenant with.
"""

import os
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "30"))


def add_custom_keys(tenant, count: int, *, prefix: str = "Key") -> list:
    """`count` custom keys for `tenant`, in bulk: 1 to 10 scopes each, a placeholder current
    secret (the list never decrypts), every tenth key also an old secret in its grace period,
    every seventh never used. Returns the keys."""
    from django.utils import timezone

    from apikeys.models import ApiKey, ApiSecret
    from scopes.models import Scope

    now = timezone.now()
    scopes = list(Scope.objects.offered().values_list("pk", flat=True)[:60])
    keys = ApiKey.objects.bulk_create(
        [
            ApiKey(
                tenant=tenant,
                kind="custom",
                name=f"{prefix} {n:05}",
                client_id=uuid.uuid4().hex,
                created_at=now - timedelta(minutes=count - n),
                last_used_at=None if n % 7 == 0 else now - timedelta(hours=n % 2000),
            )
            for n in range(count)
        ],
        batch_size=1000,
    )
    secrets = [ApiSecret(key=key, ciphertext=b"-", encryption_key_id="bench", digest=bytes(32)) for key in keys]
    secrets += [
        ApiSecret(
            key=key, ciphertext=b"-", encryption_key_id="bench", digest=bytes(32), expires_at=now + timedelta(days=1)
        )
        for key in keys[::10]
    ]
    ApiSecret.objects.bulk_create(secrets, batch_size=2000)
    through = ApiKey.scopes.through
    ApiKey.scopes.through.objects.bulk_create(
        [
            through(apikey_id=key.pk, scope_id=scopes[(n + i) % len(scopes)])
            for n, key in enumerate(keys)
            for i in range(1 + n % 10)
        ],
        batch_size=5000,
    )
    return keys


def add_usage(keys: list) -> None:
    """Calls in four of the last 24 hours of every key (the keys page's column of calls, issue
    21): each key's line has its peaks, as on a busy tenant."""
    from django.utils import timezone

    from usage.models import HourUsage

    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    HourUsage.objects.bulk_create(
        [
            HourUsage(
                bucket=hour - timedelta(hours=back),
                tenant_id=key.tenant_id,
                key=key,
                operation="oauth.token",
                outcome="issued",
                calls=1000 + n + back,
            )
            for n, key in enumerate(keys)
            for back in (0, 5, 11, 23)
        ],
        batch_size=5000,
    )


def main() -> None:
    sys.path.insert(0, str(ROOT))
    # The token benchmark's environment (its database, DEBUG off, test-only keys), in-process.
    from bench.token_endpoint import ENV, ensure_database

    os.environ.update({**ENV, "ALLOWED_HOSTS": "testserver"})
    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from tenants.models import Tenant
    from tenants.services import tenant_create

    call_command("migrate", verbosity=0)
    user, _ = User.objects.get_or_create(email="bench-keys@example.com")
    client = Client()
    client.force_login(user)
    pages = {}
    for count in (5, 5000):
        code = f"benchkeys{count}"
        Tenant.objects.filter(code=code).delete()
        tenant, _ = tenant_create(code=code, name=f"{count} keys", creator=user)
        started = time.perf_counter()
        add_usage(add_custom_keys(tenant, count))
        print(
            f"{code}: {count} custom keys (with calls in the last 24 hours) made in {time.perf_counter() - started:.1f} s"
        )
        pages[count] = f"/tenants/{code}/api-keys/"
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would have by now: plans from real row counts

    times: dict[int, list[float]] = {count: [] for count in pages}
    for _ in range(5):  # warm-up: templates compiled, connections open, scope lists cached
        for url in pages.values():
            client.get(url)
    for _ in range(REQUESTS):
        for count, url in pages.items():
            started = time.perf_counter()
            response = client.get(url)
            times[count].append(time.perf_counter() - started)
            assert response.status_code == 200, response.status_code

    print(f"\nGET keys page, {REQUESTS} requests each (in-process, DEBUG off, PostgreSQL)")
    print(f"{'custom keys':>12} {'median ms':>10} {'p90 ms':>8} {'HTML KB':>8} {'queries':>8}")
    for count, url in pages.items():
        with CaptureQueriesContext(connection) as queries:
            size = len(client.get(url).content)
        samples = sorted(times[count])
        p90 = samples[int(len(samples) * 0.9) - 1]
        print(
            f"{count:>12} {statistics.median(samples) * 1000:>10.1f} {p90 * 1000:>8.1f}"
            f" {size / 1024:>8.1f} {len(queries.captured_queries):>8}"
        )
    ratio = statistics.median(times[5000]) / statistics.median(times[5])
    print(f"\nratio 5,000 / 5 keys (medians): {ratio:.2f} (budget: 2.00)")
    sys.exit(0 if ratio <= 2 else 1)


if __name__ == "__main__":
    main()
