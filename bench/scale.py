#!/usr/bin/env python3
"""Flat as the data grows (issue 22, docs/scaling.md): the hot paths on an empty database and on
one holding 10 million tokens and 200,000 keys, side by side.

Two PostgreSQL databases: BENCH_SCALE_EMPTY_DATABASE_URL (default portal_bench_scale_empty on
127.0.0.1), made again on every run, and BENCH_SCALE_DATABASE_URL (default portal_bench_scale),
loaded once and kept: a later run uses it again while it holds the sizes asked for
(BENCH_SCALE_RELOAD=1 loads it again). The load: BENCH_SCALE_TENANTS (default 99) tenants of
BENCH_SCALE_KEYS custom keys (default 1,000), one tenant of BENCH_SCALE_BIG keys (default
100,000), and BENCH_SCALE_TOKENS token rows (default 10,000,000) spread over the loaded keys, a
third expired, in one INSERT ... SELECT from generate_series; then VACUUM ANALYZE, as
autovacuum would.

Both live in the benches' own PostgreSQL cluster (bench/harness.py `own_postgres`: kept in
BENCH_PGDATA between runs, started on a free port and stopped at the end), configured as a
deployment holding this much data would be: shared_buffers of 4 GB (BENCH_SHARED_BUFFERS)
instead of PostgreSQL's default 128 MB, which cannot hold the token table's indexes at 10
million rows. BENCH_SCALE_POSTGRES=shared uses the machine's server as it is configured (the
URLs BENCH_SCALE_DATABASE_URL and BENCH_SCALE_EMPTY_DATABASE_URL).

In each database it creates a measured tenant: its built-in keys, a custom key of three scopes
(opaque tokens), a management-API key, BENCH_SCALE_KEYS custom keys and an admin's session.
Then it starts the portal as deployed on each (gunicorn.conf.py, 2 workers,
GATEWAY_CACHE_SECONDS=0 so that every gateway check verifies its token in the database) and
drives them with wrk, the two databases alternating case by case (so that the machine's other
load falls on both alike), BENCH_ROUNDS (default 3) x BENCH_SECONDS (default 5) each (four
times as long for the keys page, which answers a few times a second):

  token       POST /oauth/token, the custom key (one INSERT into the token table)
  introspect  POST /oauth/introspect of a token of that key
  tokeninfo   GET /oauth/tokeninfo with that token
  gateway     GET /gateway/nginx with that token on a route its scopes open, uncached
  keys_page   GET /tenants/<code>/api-keys/ (the admin's session): the first page of keys
  api_keys    GET /api/v1/keys/?limit=100 (the management API)

Prints each figure on both databases (the median of the rounds) and their ratio (loaded p50
over empty p50; the budget is 1.2); exits 1 if a ratio is past it, or if any request failed.
"""

import base64
import json
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
from bench.token_endpoint import BEARER_LUA, ENV, GATEWAY_LUA, run_wrk, start, token_lua  # noqa: E402

# Where the databases live: by default in the bench's own PostgreSQL cluster (harness.own_postgres,
# configured as a deployment holding this much data would be, and kept between runs); with
# BENCH_SCALE_POSTGRES=shared, on the machine's server, its settings as they are.
OWN_POSTGRES = os.environ.get("BENCH_SCALE_POSTGRES", "own") == "own"
DATABASE = os.environ.get("BENCH_SCALE_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench_scale")
# The empty database, made again on every run; the portal on it runs beside the loaded one's.
EMPTY_DATABASE = os.environ.get(
    "BENCH_SCALE_EMPTY_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench_scale_empty"
)
TOKENS = int(os.environ.get("BENCH_SCALE_TOKENS", "10000000"))
TENANTS = int(os.environ.get("BENCH_SCALE_TENANTS", "99"))
KEYS = int(os.environ.get("BENCH_SCALE_KEYS", "1000"))
BIG = int(os.environ.get("BENCH_SCALE_BIG", "100000"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
BUDGET = 1.2
# The keys page answers a few times a second: its runs are longer, so that each p50 rests on
# more than a handful of requests.
LONGER = {"keys_page": 4}

SCALE_ENV = {
    **ENV,
    "DATABASE_URL": DATABASE,
    "GATEWAY_CACHE_SECONDS": "0",
    "DB_STATEMENT_TIMEOUT": "0",  # the load is a few long statements
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
}

# The tokens: copies of one real token's row (its scope set is the custom key's), on the loaded
# keys' current secrets, issued over the last two hours with an hour's lifetime, so that a
# third have expired (the purge would take them) and the rest are live.
TOKEN_LOAD = """
INSERT INTO oauth_accesstoken (digest, refresh_digest, key_id, secret_id, kind, scope_set_id,
    scopes, session_id, issued_at, expires_at, refresh_expires_at, revoked_at)
SELECT sha256(convert_to('scale-token-' || n, 'UTF8')), NULL,
    s.key_id, s.id, t.kind, t.scope_set_id, NULL, NULL,
    now() - (n %% 7200) * interval '1 second', now() - (n %% 7200) * interval '1 second' + interval '1 hour',
    NULL, NULL
FROM generate_series(1, %s) AS n
JOIN (SELECT row_number() OVER (ORDER BY id) - 1 AS i, id, key_id FROM apikeys_apisecret
      WHERE key_id IN (SELECT id FROM apikeys_apikey WHERE tenant_id <> %s)) AS s
  ON s.i = n %% %s,
  (SELECT kind, scope_set_id FROM oauth_accesstoken WHERE scope_set_id IS NOT NULL LIMIT 1) AS t
"""


def setup() -> dict:
    """The measured tenant, on an empty database; what the wrk scripts need."""
    from django.test import Client

    from accounts.models import User
    from apikeys.services import key_create
    from bench.key_list import add_custom_keys
    from scopes.models import Scope
    from scopes.routes import route_table
    from tenants.services import tenant_create

    # A new measured tenant on every run: the loaded database keeps those of earlier runs.
    stamp = time.strftime("%m%d%H%M%S")
    user = User.objects.create_user(email=f"scale-admin-{stamp}@example.com", password=None)
    tenant, _ = tenant_create(code=f"m{stamp}", name="Measured", creator=user)
    scopes = Scope.objects.offered().order_by("name")[:3]
    key, secret = key_create(tenant=tenant, kind="custom", name="Scale", scopes=scopes)
    api, api_secret = key_create(
        tenant=tenant, kind="custom", name="Scale API", scopes=Scope.objects.filter(name="portal.key_read")
    )
    add_custom_keys(tenant, KEYS)
    route = next(
        route
        for scope in key.scopes.order_by("name").values_list("name", flat=True)
        for route in route_table().opened_by_scope(scope)
        if route.method == "GET" and route.has_tenant
    )
    client = Client()
    client.force_login(user)
    return {
        "tenant_id": tenant.pk,
        "code": tenant.code,
        "custom": {"client_id": key.client_id, "secret": secret},
        "api": {"client_id": api.client_id, "secret": api_secret},
        "route": route.example_path(tenant.code),
        "session": client.cookies["sessionid"].value,
    }


def load(measured_tenant_id: int) -> None:
    """The other tenants, the big one and the tokens, in bulk."""
    from django.db import connection

    from accounts.models import User
    from bench.key_list import add_custom_keys
    from tenants.services import tenant_create

    user = User.objects.create_user(email="scale-load@example.com", password=None)
    started = time.perf_counter()
    for n in range(1, TENANTS + 1):
        tenant, _ = tenant_create(code=f"scale{n}", name=f"Loaded {n}", creator=user)
        add_custom_keys(tenant, KEYS)
    big, _ = tenant_create(code="scalebig", name="Big", creator=user)
    add_custom_keys(big, BIG)
    print(
        f"load: {TENANTS} tenants of {KEYS} keys and one of {BIG} in {time.perf_counter() - started:.0f} s", flush=True
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM apikeys_apisecret WHERE key_id IN "
            "(SELECT id FROM apikeys_apikey WHERE tenant_id <> %s)",
            [measured_tenant_id],
        )
        (secrets,) = cursor.fetchone()
        cursor.execute(TOKEN_LOAD, [TOKENS, measured_tenant_id, secrets])
    print(f"load: {TOKENS:,} tokens in {time.perf_counter() - started:.0f} s", flush=True)
    started = time.perf_counter()
    connection.ensure_connection()
    connection.connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"load: VACUUM ANALYZE in {time.perf_counter() - started:.0f} s", flush=True)


def basic(key: dict) -> str:
    return base64.b64encode(f"{key['client_id']}:{key['secret']}".encode()).decode()


def post_token(portal: str, key: dict) -> str:
    import urllib.request

    request = urllib.request.Request(
        portal + "/oauth/token",
        data=b"grant_type=client_credentials",
        headers={"Authorization": "Basic " + basic(key)},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["access_token"]


def _cases(portal: str, ctx: dict) -> list[tuple[str, str, str]]:
    """Each case's name, URL and wrk script against the portal at `portal` (tokens issued now)."""
    token = post_token(portal, ctx["custom"])
    api_token = post_token(portal, ctx["api"])
    introspect_lua = (
        'wrk.method = "POST"\n'
        f'wrk.body = "token={token}"\n'
        'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
        f'wrk.headers["Authorization"] = "Basic {basic(ctx["custom"])}"\n'
    )
    cookie_lua = f'wrk.method = "GET"\nwrk.headers["Cookie"] = "sessionid={ctx["session"]}"\n'
    route = re.sub(r"\{[^}]+\}", "1", ctx["route"])  # other path parameters: any value
    return [
        ("token", f"{portal}/oauth/token", token_lua(ctx["custom"])),
        ("introspect", f"{portal}/oauth/introspect", introspect_lua),
        ("tokeninfo", f"{portal}/oauth/tokeninfo", BEARER_LUA.format(token=token)),
        ("gateway", f"{portal}/gateway/nginx", GATEWAY_LUA.format(token=token, route=route)),
        ("keys_page", f"{portal}/tenants/{ctx['code']}/api-keys/", cookie_lua),
        ("api_keys", f"{portal}/api/v1/keys/?limit=100", BEARER_LUA.format(token=api_token)),
    ]


def measure(contexts: dict[str, dict]) -> dict[str, dict[str, dict]]:
    """Start a portal on each database (label -> its context), run every case on each, the
    databases alternating case by case for ROUNDS rounds (so that the machine's other load
    falls on both alike), stop them; per label, the mean p50 and req/s of each case."""
    servers, cases = [], {}
    try:
        for label, ctx in contexts.items():
            (port,) = harness.free_ports(1)
            server = start(
                f"scale-{label}", "portal.wsgi", port, {**SCALE_ENV, "DATABASE_URL": ctx["url"]}, "gunicorn.conf.py"
            )
            servers.append(server)
            portal = f"http://127.0.0.1:{port}"
            harness.wait_for(f"{portal}/.well-known/oauth-authorization-server", server)
            cases[label] = _cases(portal, ctx)
            for _, url, lua in cases[label]:
                run_wrk(url, lua, 2)  # warm-up
        runs: dict[str, dict[str, list[dict]]] = {label: {name: [] for name, _, _ in cases[label]} for label in cases}
        for _ in range(ROUNDS):
            for index in range(len(next(iter(cases.values())))):
                for label in cases:
                    name, url, lua = cases[label][index]
                    runs[label][name].append(run_wrk(url, lua, SECONDS * LONGER.get(name, 1)))
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
    results = {}
    for label, by_case in runs.items():
        results[label] = {
            name: {
                "p50": statistics.median(r["p50"] for r in rs),
                "rps": statistics.median(r["rps"] for r in rs),
                "errors": sum(r["errors"] for r in rs),
            }
            for name, rs in by_case.items()
        }
        print(
            f"{label}: " + ", ".join(f"{n} {r['rps']:.0f}/s p50 {r['p50']:.2f} ms" for n, r in results[label].items()),
            flush=True,
        )
    return results


def recreate_database(url: str) -> None:
    """Drop the PostgreSQL database of `url` (its connections too) and create it empty."""
    import urllib.parse

    import psycopg
    from psycopg import sql

    parts = urllib.parse.urlsplit(url)
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    name = parts.path.lstrip("/")
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _loaded_sizes(url: str) -> tuple | None:
    """The sizes the database at `url` was loaded with by an earlier run, if it was."""
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            return conn.execute("SELECT tokens, tenants, keys, big FROM bench_scale_load").fetchone()
    except psycopg.Error:
        return None


def _prepared(url: str, *, load_it: bool) -> dict:
    """Migrate the database at `url`, create a measured tenant in it (and load it first if
    `load_it`), in a process of its own; the measured tenant's context."""
    env = {**SCALE_ENV, "DATABASE_URL": url}
    harness.manage(env, "migrate", "--noinput", timeout=600)
    harness.manage(env, "load_scopes", timeout=600)
    out = subprocess.run(
        [sys.executable, __file__, "--prepare", "load" if load_it else "measured"],
        env=env,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
        timeout=7200,
    ).stdout
    for line in out.splitlines()[:-1]:
        print(line, flush=True)
    return {**json.loads(out.splitlines()[-1]), "url": url}


def prepare(what: str) -> None:
    """In the process `_prepared` starts: load (then record the sizes), then the measured tenant."""
    import django

    django.setup()
    from django.db import connection

    from oauth.services import client_credentials_grant

    ctx = setup()
    if what == "load":
        # The loaded tokens copy a real token's row (its kind and scope set).
        client_credentials_grant(
            client_id=ctx["custom"]["client_id"],
            client_secret=ctx["custom"]["secret"],
            grant_type="client_credentials",
            scope=None,
            address="127.0.0.1",
        )
        load(ctx["tenant_id"])
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE bench_scale_load (tokens bigint, tenants int, keys int, big int)")
            cursor.execute("INSERT INTO bench_scale_load VALUES (%s, %s, %s, %s)", [TOKENS, TENANTS, KEYS, BIG])
    print(json.dumps(ctx), flush=True)


def main() -> None:
    """The loaded database is kept between runs (its load takes minutes) and used again while
    it holds the sizes asked for; BENCH_SCALE_RELOAD=1 loads it again."""
    cluster = None
    database, empty_database = DATABASE, EMPTY_DATABASE
    if OWN_POSTGRES:
        cluster = harness.own_postgres()
        database, empty_database = cluster.url("portal_bench_scale"), cluster.url("portal_bench_scale_empty")
    try:
        recreate_database(empty_database)
        empty_ctx = _prepared(empty_database, load_it=False)
        reuse = _loaded_sizes(database) == (TOKENS, TENANTS, KEYS, BIG) and not os.environ.get("BENCH_SCALE_RELOAD")
        if reuse:
            print(f"load: {database} holds the load of an earlier run; used again", flush=True)
        else:
            recreate_database(database)
        loaded_ctx = _prepared(database, load_it=not reuse)
        results = measure({"empty": empty_ctx, "loaded": loaded_ctx})
    finally:
        if cluster is not None:
            cluster.stop()
    empty, loaded = results["empty"], results["loaded"]

    print(
        f"\nwrk {ROUNDS} x {SECONDS}s per case and database, alternating, "
        f"{os.environ.get('BENCH_CONNECTIONS', '4')} connections; "
        f"the portal as deployed (gunicorn.conf.py, 2 workers), gateway cache off; "
        f"loaded: {TOKENS:,} tokens, {TENANTS} tenants of {KEYS} keys, one of {BIG}"
    )
    print(f"{'case':<11} {'empty p50':>10} {'loaded p50':>11} {'empty/s':>9} {'loaded/s':>9} {'ratio':>6}")
    worst = 0.0
    for name, before in empty.items():
        after = loaded[name]
        ratio = after["p50"] / before["p50"]
        worst = max(worst, ratio)
        print(
            f"{name:<11} {before['p50']:>10.2f} {after['p50']:>11.2f} {before['rps']:>9.0f} {after['rps']:>9.0f}"
            f" {ratio:>5.2f}x"
        )
    print(f"ratio: loaded p50 over empty p50, the medians of the rounds (budget {BUDGET}); worst {worst:.2f}")
    if any(r["errors"] for r in [*empty.values(), *loaded.values()]):
        sys.exit("some requests failed: the figures are not comparable")
    sys.exit(0 if worst <= BUDGET else 1)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--prepare"]:
        prepare(sys.argv[2])
    else:
        main()
