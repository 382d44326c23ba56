#!/usr/bin/env python3
"""Expired tokens leave without hurting the hot path (issue 22, docs/scaling.md): token p99
while `purge_tokens` deletes millions of expired rows, against the p99 with no purge.

Drops and recreates the PostgreSQL database portal_bench_purge in the benches' own cluster
(bench/harness.py `own_postgres`: configured as a deployment holding millions of tokens would be,
shared_buffers 4 GB and max_wal_size 8 GB; BENCH_PURGE_POSTGRES=shared uses
BENCH_PURGE_DATABASE_URL on the machine's server instead, its settings as they are), migrates it, creates a tenant with a custom key, copies one
real token's row BENCH_PURGE_ROWS times (default 5,000,000) as tokens that expired an hour ago
(one INSERT ... SELECT from generate_series), and runs VACUUM ANALYZE. Then it starts the
portal as deployed (gunicorn.conf.py, 2 workers) and drives POST /oauth/token with wrk
(BENCH_CONNECTIONS, default 4):

  idle   BENCH_ROUNDS (default 3) x BENCH_SECONDS (default 10) with no purge
  purge  slices of BENCH_SECONDS while `manage.py purge_tokens --batch-size BENCH_PURGE_BATCH
         --duty BENCH_PURGE_DUTY` runs (defaults 1000 and 0.25), until it ends

and prints each slice's req/s and p99, how long the purge took (rows/s), the median slice's p99,
the p99 of all the requests made while the purge ran (the slices pooled, from each slice's
percentiles weighted by its requests), and the worst slice's p99. The budget, 2.0, is for the
pooled p99 over the idle p99 (the idle rounds pooled the same way); the worst slice over the
idle p99 is printed beside it. A CHECKPOINT after the load starts the idle rounds and the purge
alike with no load's WAL left to write.
Exits 1 past the budget, or if any token request failed.
"""

import itertools
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: the bench package beside it
from bench import harness  # noqa: E402
from bench.scale import post_token, recreate_database  # noqa: E402
from bench.token_endpoint import ENV, run_wrk, start, token_lua  # noqa: E402

DATABASE = os.environ.get("BENCH_PURGE_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench_purge")
ROWS = int(os.environ.get("BENCH_PURGE_ROWS", "5000000"))
BATCH = os.environ.get("BENCH_PURGE_BATCH", "1000")
DUTY = os.environ.get("BENCH_PURGE_DUTY", "0.25")
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
BUDGET = 2.0
# In the benches' own PostgreSQL cluster (harness.own_postgres: configured as a deployment with
# millions of tokens would be); BENCH_PURGE_POSTGRES=shared: on the machine's, as it is.
OWN_POSTGRES = os.environ.get("BENCH_PURGE_POSTGRES", "own") == "own"

PURGE_ENV = {**ENV, "DATABASE_URL": DATABASE, "DB_STATEMENT_TIMEOUT": "0"}

EXPIRED_LOAD = """
INSERT INTO oauth_accesstoken (digest, refresh_digest, key_id, secret_id, kind, scope_set_id,
    scopes, session_id, issued_at, expires_at, refresh_expires_at, revoked_at)
SELECT sha256(convert_to('purge-token-' || n, 'UTF8')), NULL, t.key_id, t.secret_id, t.kind,
    t.scope_set_id, NULL, NULL, now() - interval '2 hours' - (n %% 3600) * interval '1 second',
    now() - interval '1 hour' - (n %% 3600) * interval '1 second', NULL, NULL
FROM generate_series(1, %s) AS n, (SELECT * FROM oauth_accesstoken LIMIT 1) AS t
"""


# Each wrk run's latency percentiles (microseconds) and request count, for pooling runs.
DONE_LUA = r"""
done = function(summary, latency, requests)
  for _, p in ipairs({50, 75, 90, 95, 97, 98, 98.5, 99, 99.25, 99.5, 99.75, 99.9, 99.95, 99.99}) do
    io.write(string.format("pct %g %d\n", p, latency:percentile(p)))
  end
  io.write(string.format("pct 100 %d\n", latency.max))
  io.write(string.format("requests %d\n", summary.requests))
end
"""


def distribution(result: dict) -> tuple[int, list[tuple[float, float]]]:
    """A wrk run's request count and its (fraction, latency in ms) points, from DONE_LUA."""
    points = [(float(p) / 100, int(us) / 1000) for p, us in re.findall(r"^pct (\S+) (\d+)$", result["out"], re.M)]
    return int(re.search(r"^requests (\d+)$", result["out"], re.M).group(1)), points


def pooled_percentile(results: list[dict], fraction: float = 0.99) -> float:
    """The latency below which `fraction` of all the requests of `results` fell: each run's
    share at or below a latency read off its percentiles (linear between them), weighted by its
    requests, and the latency found by bisection."""
    runs = [distribution(result) for result in results]
    total = sum(count for count, _ in runs)

    def below(latency: float) -> float:
        share = 0.0
        for count, points in runs:
            at = 0.0
            for (f0, v0), (f1, v1) in itertools.pairwise([(0.0, 0.0), *points]):
                if latency >= v1:
                    at = f1
                else:
                    at = f0 + (f1 - f0) * max(0.0, latency - v0) / (v1 - v0) if v1 > v0 else f0
                    break
            share += count * at
        return share / total

    low, high = 0.0, max(points[-1][1] for _, points in runs)
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if below(middle) < fraction else (low, middle)
    return high


def setup() -> dict:
    from django.db import connection

    from accounts.models import User
    from apikeys.services import key_create
    from oauth.services import client_credentials_grant
    from scopes.models import Scope
    from tenants.services import tenant_create

    user = User.objects.create_user(email="purge-admin@example.com", password=None)
    tenant, _ = tenant_create(code="purge", name="Purge", creator=user)
    key, secret = key_create(
        tenant=tenant, kind="custom", name="Purge", scopes=Scope.objects.offered().order_by("name")[:3]
    )
    outcome = client_credentials_grant(
        client_id=key.client_id, client_secret=secret, grant_type="client_credentials", scope=None, address="127.0.0.1"
    )
    assert outcome.status == 200, outcome.body
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(EXPIRED_LOAD, [ROWS])
    print(f"load: {ROWS:,} expired tokens in {time.perf_counter() - started:.0f} s", flush=True)
    connection.ensure_connection()
    connection.connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE oauth_accesstoken")
        cursor.execute("CHECKPOINT")
    return {"client_id": key.client_id, "secret": secret}


def main() -> None:
    cluster = harness.own_postgres() if OWN_POSTGRES else None
    try:
        measure(cluster.url("portal_bench_purge") if cluster else DATABASE)
    finally:
        if cluster is not None:
            cluster.stop()


def measure(database: str) -> None:
    env = {**PURGE_ENV, "DATABASE_URL": database}
    recreate_database(database)
    harness.manage(env, "migrate", "--noinput", timeout=600)
    harness.manage(env, "load_scopes", timeout=600)
    os.environ.update(env)
    import django

    django.setup()
    key = setup()
    (port,) = harness.free_ports(1)
    server = start("purge", "portal.wsgi", port, env, "gunicorn.conf.py")
    portal = f"http://127.0.0.1:{port}"
    lua = token_lua(key) + DONE_LUA
    url = f"{portal}/oauth/token"
    try:
        harness.wait_for(f"{portal}/.well-known/oauth-authorization-server", server)
        post_token(portal, key)
        run_wrk(url, lua, 2)  # warm-up
        idle = [run_wrk(url, lua, SECONDS) for _ in range(ROUNDS)]
        for result in idle:
            print(f"idle   {result['rps']:>8.0f}/s  p99 {result['p99']:>7.2f} ms", flush=True)
        started = time.perf_counter()
        purge = subprocess.Popen(
            [sys.executable, "manage.py", "purge_tokens", "--batch-size", BATCH, "--duty", DUTY],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        slices = []
        while purge.poll() is None:
            slices.append(run_wrk(url, lua, SECONDS))
            print(f"purge  {slices[-1]['rps']:>8.0f}/s  p99 {slices[-1]['p99']:>7.2f} ms", flush=True)
        took = time.perf_counter() - started
        purged = purge.stdout.read().strip()
    finally:
        server.terminate()
        server.wait(timeout=30)
    idle_p99 = pooled_percentile(idle)
    during_p99 = pooled_percentile(slices)
    worst = max(r["p99"] for r in slices)
    ratio = during_p99 / idle_p99
    typical = statistics.median(r["p99"] for r in slices)
    print(
        f"\n{purged} in {took:.0f} s ({ROWS / took:,.0f} rows/s), batch {BATCH}, duty {DUTY}; "
        f"wrk {os.environ.get('BENCH_CONNECTIONS', '4')} connections, the portal as deployed (2 workers)"
    )
    print(
        f"token p99: idle {idle_p99:.2f} ms ({ROUNDS} rounds pooled, worst round {max(r['p99'] for r in idle):.2f}); "
        f"during the purge {during_p99:.2f} ms ({len(slices)} slices pooled), "
        f"median slice {typical:.2f} ms, worst slice {worst:.2f} ms ({worst / idle_p99:.2f}x)"
    )
    print(
        f"req/s: idle {statistics.mean(r['rps'] for r in idle):.0f}, "
        f"during the purge {statistics.mean(r['rps'] for r in slices):.0f}"
    )
    print(f"ratio {ratio:.2f}: the purge's pooled p99 over the idle one (budget {BUDGET})")
    if any(r["errors"] for r in [*idle, *slices]):
        sys.exit("some token requests failed")
    sys.exit(0 if ratio <= BUDGET else 1)


if __name__ == "__main__":
    main()
