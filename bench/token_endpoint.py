#!/usr/bin/env python3
"""Benchmark of POST /oauth/token against a bare floor, three servers side by side.

Creates (or reuses) the PostgreSQL database BENCH_DATABASE_URL (default portal_bench on
127.0.0.1), migrates it, creates a tenant with `create_tenant --json` and two custom keys of three
scopes, then starts three gunicorns (DEBUG off) on
free ports, running at the same time:

  floor    bench.wsgi with DJANGO_SETTINGS_MODULE=bench.settings: a bare Django, no middleware,
           one view (bench/views.py: Basic, one lookup, one compare, one INSERT), served twice:
           with gunicorn.conf.py's 2 gthread workers and with 2 sync workers
           (bench/gunicorn_floor.py); each round's floor is the faster of the two
  portal   portal.wsgi: the portal as deployed, every middleware and check, counting usage

and drives them with wrk one at a time, alternating for BENCH_ROUNDS rounds (default 3) of
BENCH_SECONDS (default 10) after a short warm-up:

  floor_gthread, floor_sync  POST /oauth/token on each floor (the Emporix API key's credentials)
  custom   POST /oauth/token on the portal with a custom key of three scopes
  jwt      POST /oauth/token on the portal with a custom key of three scopes that issues JWT
           access tokens (RFC 9068: signed, no INSERT)
  emporix  POST /oauth/token on the portal with the Emporix API key (174 scopes)
  gateway  GET /gateway/nginx on the portal, as nginx's auth_request asks it, with an access
           token of the custom key (cached after its first check) and a route its scopes open

  tokeninfo     GET /oauth/tokeninfo with that token
  introspect    POST /oauth/introspect of that token, authenticated with the custom key
  api_keys      GET /api/v1/keys/?limit=100 (the management API) of a tenant with BENCH_API_KEYS
                keys (default 5,000) and BENCH_API_ENTRIES activity entries (default 50,000)
  api_activity  GET /api/v1/activity/?limit=100 of the same tenant

and prints requests/s, p50 and p99 latency, non-2xx answers and each endpoint's ratio to the
floor, and whether a page of 100 keys answers within 3x the time of token info (issue 12).
Usage counting on against off is bench/counting.py's (make bench runs it next). BENCH_PROFILE=DIR also writes a cProfile of every portal worker to DIR
(bench/gunicorn_profile.py).
"""

import base64
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: the bench package beside it
from bench import harness  # noqa: E402

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))  # make bench runs .venv's Python
WRK = os.environ.get("WRK", "/usr/bin/wrk")
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
# Rounds alternate the endpoints so that load from elsewhere on the machine hits all alike.
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "4"))
DATABASE = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench")
PROFILE = os.environ.get("BENCH_PROFILE", "")

ENV = {
    **os.environ,
    "DATABASE_URL": DATABASE,
    "DEBUG": "off",
    "SECRET_KEY": "bench-only-secret-key",
    "PORTAL_ENCRYPTION_KEYS": "bench1:9Nf0cS4aYV9V7lQ4w3bq0wqvEx0nq2Ff8a3sOq0kq7M=",
    "STATIC_MANIFEST": "off",
    "SECURE_COOKIES": "off",
    # Outside DEBUG the portal needs a mail backend other than the console; the bench sends none.
    "EMAIL_URL": "filemail://",
    "EMAIL_FILE_PATH": os.path.join(tempfile.gettempdir(), "portal-bench-mail"),
    "CACHE_URL": os.environ.get("BENCH_CACHE_URL", "locmemcache://bench"),
    "LOG_LEVEL": "WARNING",
    "WEB_CONCURRENCY": "2",
    "HOST": "127.0.0.1",
    "DJANGO_SETTINGS_MODULE": "portal.settings",
}

API_KEYS = int(os.environ.get("BENCH_API_KEYS", "5000"))
API_ENTRIES = int(os.environ.get("BENCH_API_ENTRIES", "50000"))
ENV["API_RATE_LIMIT_PER_TOKEN"] = "1000000000"  # the bench measures the API, not its limit

# A tenant with many keys and activity entries, and a key for reading them over the API.
API_TENANT = """
import json
from activity.models import Action, ActivityEntry
from kernel import crypto
from apikeys.models import ApiKey
from apikeys.services import key_create
from scopes.models import Scope
from tenants.models import Tenant
tenant = Tenant.objects.get(code={code!r})
scope = Scope.objects.get(name="tax.tax_read")
keys = ApiKey.objects.bulk_create(
    ApiKey(tenant=tenant, kind="custom", name=f"Bulk {{n:05}}", client_id=crypto.generate_client_id())
    for n in range({keys})
)
ApiKey.scopes.through.objects.bulk_create(ApiKey.scopes.through(apikey=k, scope=scope) for k in keys)
ActivityEntry.objects.bulk_create(
    (ActivityEntry(tenant=tenant, action=Action.KEY_CHANGED, actor_email=f"user{{n % 50}}@example.com", key_name="Bulk")
     for n in range({entries})),
    batch_size=5000,
)
from django.db import connection
with connection.cursor() as cursor:  # fresh statistics, as autovacuum would gather them
    cursor.execute("ANALYZE apikeys_apikey, apikeys_apikey_scopes, activity_activityentry")
key, secret = key_create(
    tenant=tenant, kind="custom", name="Bench API",
    scopes=Scope.objects.filter(name__in=["portal.key_read", "portal.activity_read"]),
)
print(json.dumps({{"client_id": key.client_id, "secret": secret}}))
"""

BEARER_LUA = """
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer {token}"
"""

CUSTOM_KEY = """
import json
from apikeys.services import key_create
from oauth.models import AccessToken
from scopes.models import Scope
from scopes.routes import route_table
from tenants.models import Tenant
AccessToken.objects.all().delete()  # earlier runs' tokens
tenant = Tenant.objects.get(code={code!r})
scopes = Scope.objects.offered().order_by("name")[:3]
key, secret = key_create(tenant=tenant, kind="custom", name="Bench", scopes=scopes)
jwt_key, jwt_secret = key_create(tenant=tenant, kind="custom", name="Bench JWT", scopes=scopes, token_format="jwt")
# A GET route of the tenant that the key's scopes open, for the gateway check.
route = next(
    route
    for scope in key.scopes.order_by("name").values_list("name", flat=True)
    for route in route_table().opened_by_scope(scope)
    if route.method == "GET" and route.has_tenant
)
print(json.dumps({{"custom": {{"client_id": key.client_id, "secret": secret, "route": route.example_path(tenant.code)}},
                  "jwt": {{"client_id": jwt_key.client_id, "secret": jwt_secret}}}}))
"""

TOKEN_LUA = """
wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic {credentials}"
"""

# What deploy/nginx-gateway.conf sends the check for `GET route` with a bearer token.
GATEWAY_LUA = """
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer {token}"
wrk.headers["X-Original-Method"] = "GET"
wrk.headers["X-Original-URI"] = "{route}"
"""


def manage(*args: str) -> str:
    return harness.manage(ENV, *args)


def ensure_database() -> None:
    harness.ensure_database(DATABASE)


def start(name: str, app: str, port: int, env: dict[str, str], config: str) -> subprocess.Popen:
    log = open(Path(tempfile.gettempdir()) / f"bench-{name}.log", "w")  # noqa: SIM115  (the server keeps it)
    return subprocess.Popen(
        [GUNICORN, app, "-c", config],
        cwd=ROOT,
        env={**env, "PORT": str(port)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def to_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def token_lua(key: dict) -> str:
    return TOKEN_LUA.format(credentials=base64.b64encode(f"{key['client_id']}:{key['secret']}".encode()).decode())


def access_token(portal_url: str, key: dict) -> str:
    request = urllib.request.Request(
        portal_url + "/oauth/token",
        data=b"grant_type=client_credentials",
        headers={"Authorization": "Basic " + base64.b64encode(f"{key['client_id']}:{key['secret']}".encode()).decode()},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["access_token"]


def run_wrk(url: str, lua: str, seconds: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua)
    try:
        out = subprocess.run(
            [WRK, "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "-s", script.name, url],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        os.unlink(script.name)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": to_ms(re.search(r"\s50%\s+(\S+)", out).group(1)),
        "p99": to_ms(re.search(r"\s99%\s+(\S+)", out).group(1)),
        "errors": int(bad.group(1)) if bad else 0,
        "out": out,
    }


def introspect_lua(key: dict, token: str) -> str:
    """POST /oauth/introspect of `token`, the client authenticated with HTTP Basic."""
    credentials = base64.b64encode(f"{key['client_id']}:{key['secret']}".encode()).decode()
    return (
        'wrk.method = "POST"\n'
        f'wrk.body = "token={token}"\n'
        'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
        f'wrk.headers["Authorization"] = "Basic {credentials}"\n'
    )


def row(name: str, result: dict, floor: float) -> str:
    return (
        f"{name:<12} {result['rps']:>9.1f} {result['p50']:>8.2f} {result['p99']:>8.2f} "
        f"{result['errors']:>8} {result['rps'] / floor:>5.2f}x"
    )


HEADER = f"{'endpoint':<12} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} {'ratio':>6}"


def main() -> None:
    if not Path(WRK).exists():
        raise SystemExit(f"wrk is needed at {WRK} (make bench installs it)")
    ensure_database()
    manage("migrate", "--noinput")
    manage("load_scopes")
    code = "bench" + time.strftime("%m%d%H%M%S")
    tenant = json.loads(manage("create_tenant", code, "--admin", f"{code}@example.com", "--json"))
    emporix = next(key for key in tenant["keys"] if key["kind"] == "emporix")
    keys = json.loads(manage("shell", "-c", CUSTOM_KEY.format(code=code)).strip().splitlines()[-1])
    custom, jwt_key = keys["custom"], keys["jwt"]
    api_key = json.loads(
        manage("shell", "-c", API_TENANT.format(code=code, keys=API_KEYS, entries=API_ENTRIES)).strip().splitlines()[-1]
    )

    floor_port, sync_port, portal_port = harness.free_ports(3)
    portal_config = "gunicorn.conf.py"
    portal_env = dict(ENV)
    if PROFILE:
        portal_config = "bench/gunicorn_profile.py"
        portal_env["BENCH_PROFILE"] = str(Path(PROFILE).resolve())
    servers = [
        start(
            "floor", "bench.wsgi", floor_port, {**ENV, "DJANGO_SETTINGS_MODULE": "bench.settings"}, "gunicorn.conf.py"
        ),
        start(
            "floor-sync",
            "bench.wsgi",
            sync_port,
            {**ENV, "DJANGO_SETTINGS_MODULE": "bench.settings"},
            "bench/gunicorn_floor.py",
        ),
        start("portal", "portal.wsgi", portal_port, portal_env, portal_config),
    ]
    floor_url = f"http://127.0.0.1:{floor_port}/oauth/token"
    sync_url = f"http://127.0.0.1:{sync_port}/oauth/token"
    portal = f"http://127.0.0.1:{portal_port}"
    portal_url = f"{portal}/oauth/token"
    try:
        harness.wait_for(floor_url, servers[0], any_status=True)  # the floor answers GET with an error
        harness.wait_for(sync_url, servers[1], any_status=True)
        harness.wait_for(f"{portal}/.well-known/oauth-authorization-server", servers[2])
        # One token for the whole run (an hour's lifetime): each worker checks it against
        # the database once per GATEWAY_CACHE_SECONDS and answers from memory in between.
        route = re.sub(r"\{[^}]+\}", "1", custom["route"])  # other path parameters: any value
        gateway_lua = GATEWAY_LUA.format(token=access_token(portal, custom), route=route)
        cases = [
            ("floor_gthread", floor_url, token_lua(emporix)),
            ("floor_sync", sync_url, token_lua(emporix)),
            ("custom", portal_url, token_lua(custom)),
            ("emporix", portal_url, token_lua(emporix)),
            ("jwt", portal_url, token_lua(jwt_key)),
            ("gateway", f"{portal}/gateway/nginx", gateway_lua),
            ("tokeninfo", f"{portal}/oauth/tokeninfo", BEARER_LUA.format(token=access_token(portal, api_key))),
            ("introspect", f"{portal}/oauth/introspect", introspect_lua(custom, access_token(portal, custom))),
            ("api_keys", f"{portal}/api/v1/keys/?limit=100", BEARER_LUA.format(token=access_token(portal, api_key))),
            (
                "api_activity",
                f"{portal}/api/v1/activity/?limit=100",
                BEARER_LUA.format(token=access_token(portal, api_key)),
            ),
        ]
        for _, url, lua in cases:
            run_wrk(url, lua, 2)  # warm-up: connections, caches
        rounds: dict[str, list[dict]] = {"floor": [], **{name: [] for name, _, _ in cases}}
        for number in range(1, ROUNDS + 1):
            for name, url, lua in cases:
                rounds[name].append(run_wrk(url, lua, SECONDS))
            # The strongest baseline: the faster of the floor's two configurations this round.
            rounds["floor"].append(max(rounds["floor_gthread"][-1], rounds["floor_sync"][-1], key=lambda r: r["rps"]))
            floor = rounds["floor"][-1]["rps"]
            print(
                f"round {number}: "
                + ", ".join(f"{n} {r[-1]['rps']:.1f}/s ({r[-1]['rps'] / floor:.2f}x)" for n, r in rounds.items()),
                flush=True,
            )
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)

    print(
        f"wrk {ROUNDS} x {SECONDS}s per endpoint (alternating), {CONNECTIONS} connections; "
        f"portal: gunicorn.conf.py (2 gthread workers); floor: each round the faster of 2 gthread and "
        f"2 sync workers; PostgreSQL, tenant {code}"
    )
    print(HEADER)
    results = {
        name: {
            "rps": sum(r["rps"] for r in runs) / len(runs),
            "p50": sum(r["p50"] for r in runs) / len(runs),
            "p99": max(r["p99"] for r in runs),
            "errors": sum(r["errors"] for r in runs),
        }
        for name, runs in rounds.items()
    }
    for name, result in results.items():
        print(row(name, result, results["floor"]["rps"]))
    print("req/s and p50: mean over the rounds; p99: the worst round; ratio: req/s over the floor's")
    within = results["api_keys"]["p50"] <= 3 * results["tokeninfo"]["p50"]
    print(
        f"a page of 100 keys of {API_KEYS} (p50 {results['api_keys']['p50']:.2f} ms) "
        f"{'is' if within else 'is NOT'} within 3x token info (p50 {results['tokeninfo']['p50']:.2f} ms)"
    )
    if PROFILE:
        print(f"the portal ran under cProfile (profiles in {PROFILE}): its figures are not comparable")
    if any(result["errors"] for result in results.values()):
        sys.exit("some requests failed: the figures are not comparable")


if __name__ == "__main__":
    main()
