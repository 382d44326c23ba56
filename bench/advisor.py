#!/usr/bin/env python3
"""Server time of the access advisor (docs/access-advisor.md): the tenant's findings page and
one key's advice, for a tenant with 5 custom keys and one with 5,000.

The token benchmark's database and environment (bench/token_endpoint.py), the keys of
bench/key_list.py's `add_custom_keys` (1 to 10 scopes each), and one day's roll-up per key for
an operation its first scope opens. Each page is requested BENCH_REQUESTS times (default 10,
after a warm-up) through Django's test client in this process; prints the median and p90
server time, the HTML size and the query count of each. Figures only: no budget is enforced.
"""

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "10"))


def add_usage(tenant) -> None:
    """One allowed call a day ago per key of `tenant`, of an operation its first scope opens."""
    from datetime import timedelta

    from django.utils import timezone

    from apikeys.models import ApiKey
    from kernel.usage import ALLOWED
    from scopes.routes import route_table
    from usage.models import DayUsage

    day = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    table = route_table()
    rows = []
    for key in ApiKey.objects.filter(tenant=tenant).prefetch_related("scopes"):
        for scope in key.scopes.all()[:1]:
            routes = table.opened_by_scope(scope.name)
            if routes and routes[0].operation_id:
                rows.append(
                    DayUsage(
                        bucket=day, tenant=tenant, key=key, operation=routes[0].operation_id, outcome=ALLOWED, calls=5
                    )
                )
    DayUsage.objects.bulk_create(rows, batch_size=2000)


def main() -> None:
    sys.path.insert(0, str(ROOT))
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
    from apikeys.models import ApiKey
    from bench.key_list import add_custom_keys
    from tenants.models import Tenant
    from tenants.services import tenant_create

    call_command("migrate", verbosity=0)
    user, _ = User.objects.get_or_create(email="bench-advisor@example.com")
    client = Client()
    client.force_login(user)
    pages = {}
    for count in (5, 5000):
        code = f"benchadv{count}"
        Tenant.objects.filter(code=code).delete()
        tenant, _ = tenant_create(code=code, name=f"{count} keys", creator=user)
        add_custom_keys(tenant, count)
        add_usage(tenant)
        key = ApiKey.objects.filter(tenant=tenant, kind="custom").order_by("name").first()
        pages[f"findings, {count} keys"] = f"/tenants/{code}/access-advisor/"
        pages[f"one key, {count} keys"] = f"/tenants/{code}/access-advisor/{key.public_id}/"
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    for url in pages.values():  # warm-up
        client.get(url)
    times: dict[str, list[float]] = {name: [] for name in pages}
    for _ in range(REQUESTS):
        for name, url in pages.items():
            started = time.perf_counter()
            response = client.get(url)
            times[name].append(time.perf_counter() - started)
            assert response.status_code == 200, response.status_code

    print(f"GET access advisor pages, {REQUESTS} requests each (in-process, DEBUG off, PostgreSQL)")
    print(f"{'page':>22} {'median ms':>10} {'p90 ms':>8} {'HTML KB':>8} {'queries':>8}")
    for name, url in pages.items():
        with CaptureQueriesContext(connection) as queries:
            size = len(client.get(url).content)
        samples = sorted(times[name])
        p90 = samples[max(0, int(len(samples) * 0.9) - 1)]
        print(
            f"{name:>22} {statistics.median(samples) * 1000:>10.1f} {p90 * 1000:>8.1f}"
            f" {size / 1024:>8.1f} {len(queries.captured_queries):>8}"
        )


if __name__ == "__main__":
    main()
