#!/usr/bin/env python3
"""Benchmark of POST /oauth/token against a minimal token view, side by side in one server.

Creates (or reuses) the PostgreSQL database portal_bench on 127.0.0.1, migrates it, creates a
tenant with `create_tenant --json` and a custom key of three scopes, starts gunicorn (2 sync
workers, DEBUG off) on a free port with BENCH_BASELINE=1, and drives each endpoint with wrk
for BENCH_SECONDS (default 10) after a short warm-up:

  baseline  POST /bench/baseline (bench/baseline.py: Basic, one lookup, one compare, one INSERT)
  custom    POST /oauth/token with a custom key of three scopes
  emporix   POST /oauth/token with the Emporix API key (174 scopes)

and prints requests/s, p50 and p99 latency, and each token/baseline ratio.
"""

import base64
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
WRK = os.environ.get("WRK", "/usr/bin/wrk")
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
# Rounds alternate the endpoints so that load from elsewhere on the machine hits all alike.
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "4"))
DATABASE = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench")

ENV = {
    **os.environ,
    "DATABASE_URL": DATABASE,
    "DEBUG": "off",
    "SECRET_KEY": "bench-only-secret-key",
    "PORTAL_ENCRYPTION_KEYS": "bench1:9Nf0cS4aYV9V7lQ4w3bq0wqvEx0nq2Ff8a3sOq0kq7M=",
    "STATIC_MANIFEST": "off",
    "SECURE_COOKIES": "off",
    "CACHE_URL": os.environ.get("BENCH_CACHE_URL", "locmemcache://bench"),
    "BENCH_BASELINE": "1",
    "LOG_LEVEL": "WARNING",
    "WEB_CONCURRENCY": "2",
    "HOST": "127.0.0.1",
}

CUSTOM_KEY = """
import json
from apikeys.services import key_create
from oauth.models import AccessToken
from scopes.models import Scope
from tenants.models import Tenant
AccessToken.objects.all().delete()  # earlier runs' tokens
tenant = Tenant.objects.get(code={code!r})
key, secret = key_create(tenant=tenant, kind="custom", name="Bench", scopes=Scope.objects.offered().order_by("name")[:3])
print(json.dumps({{"client_id": key.client_id, "secret": secret}}))
"""

LUA = """
wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic {credentials}"
"""


def manage(*args: str) -> str:
    return subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=ENV, check=True, capture_output=True, text=True
    ).stdout


def ensure_database() -> None:
    import psycopg

    name = DATABASE.rsplit("/", 1)[1]
    with psycopg.connect(DATABASE.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer at {url}")


def to_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def run_wrk(url: str, client_id: str, secret: str, seconds: int) -> dict:
    credentials = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA.format(credentials=credentials))
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
    }


def main() -> None:
    if not Path(WRK).exists():
        raise SystemExit(f"wrk is needed at {WRK}")
    ensure_database()
    manage("migrate", "--noinput")
    manage("load_scopes")
    code = "bench" + time.strftime("%m%d%H%M%S")
    tenant = json.loads(manage("create_tenant", code, "--admin", f"{code}@example.com", "--json"))
    emporix = next(key for key in tenant["keys"] if key["kind"] == "emporix")
    custom = json.loads(manage("shell", "-c", CUSTOM_KEY.format(code=code)).strip().splitlines()[-1])

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(tempfile.gettempdir() + "/bench-gunicorn.log", "w")
    server = subprocess.Popen(
        [GUNICORN, "portal.wsgi", "-c", "gunicorn.conf.py"],
        cwd=ROOT,
        env={**ENV, "PORT": str(port)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(base + "/.well-known/oauth-authorization-server")
        cases = [
            ("baseline", base + "/bench/baseline", emporix),
            ("custom", base + "/oauth/token", custom),
            ("emporix", base + "/oauth/token", emporix),
        ]
        for _, url, key in cases:
            run_wrk(url, key["client_id"], key["secret"], 2)  # warm-up: connections, caches
        rounds: dict[str, list[dict]] = {name: [] for name, _, _ in cases}
        for _ in range(ROUNDS):
            for name, url, key in cases:
                rounds[name].append(run_wrk(url, key["client_id"], key["secret"], SECONDS))
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()

    print(
        f"wrk {ROUNDS} x {SECONDS}s per endpoint (alternating), {CONNECTIONS} connections, "
        f"gunicorn 2 sync workers, PostgreSQL, tenant {code}"
    )
    print(f"{'endpoint':<10} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} {'ratio':>6}")
    results = {
        name: {
            "rps": sum(r["rps"] for r in runs) / len(runs),
            "p50": sum(r["p50"] for r in runs) / len(runs),
            "p99": max(r["p99"] for r in runs),
            "errors": sum(r["errors"] for r in runs),
        }
        for name, runs in rounds.items()
    }
    baseline = results["baseline"]["rps"]
    for name, result in results.items():
        ratio = result["rps"] / baseline
        print(
            f"{name:<10} {result['rps']:>9.1f} {result['p50']:>8.2f} {result['p99']:>8.2f} "
            f"{result['errors']:>8} {ratio:>5.2f}x"
        )
    print("req/s and p50: mean over the rounds; p99: the worst round; ratio: req/s over the baseline's")
    if any(result["errors"] for result in results.values()):
        sys.exit("some requests failed: the figures are not comparable")


if __name__ == "__main__":
    main()
