#!/usr/bin/env python3
"""Timing oracles (issue 18): does the answer's timing tell an attacker whether

  token  a Client ID exists? POST /oauth/token with a known Client ID and a wrong secret,
         against an unknown (well-formed, never issued) Client ID with a wrong secret;
  reset  an e-mail address has an account? POST /accounts/password/reset/ with an existing
         account's address, against an address without one.

Against the portal as deployed: gunicorn (gunicorn.conf.py, DEBUG off, one worker so that
both kinds of request meet the same process) on PostgreSQL (TIMING_DATABASE_URL, default
portal_timing on 127.0.0.1, created and migrated if missing), mail written as files. The
failure and reset limits are raised out of the way (the benchmark measures the work behind
them, not their 429s).

The two kinds are sent as pairs, in random order within each pair, on one keep-alive
connection per kind, so that load elsewhere on the machine (shared, busy) drifts over both
alike. Each kind gets TIMING_SAMPLES samples (default 1000, at least 500) after a warm-up.
Prints, per oracle, each kind's median and quartiles in milliseconds, the difference of the
medians, the Hodges-Lehmann estimate of the shift, and a two-sided Mann-Whitney U test
(normal approximation with tie correction; scipy's too when it is installed). A p-value
below 0.01 says the timing tells the two apart.

    .venv/bin/python bench/timing_oracles.py [token|reset ...]

TIMING_BASE_URL=http://host:port measures a portal already running instead (its database
must have the tenant `timing` and the user timing@example.com: `manage.py create_tenant
timing --admin timing@example.com --json`; print the Client ID with TIMING_CLIENT_ID).
"""

import base64
import http.client
import json
import math
import os
import random
import re
import signal
import statistics
import string
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: the bench package beside it
from bench import harness  # noqa: E402

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
DATABASE = os.environ.get("TIMING_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_timing")
SAMPLES = int(os.environ.get("TIMING_SAMPLES", "1000"))
WARMUP = int(os.environ.get("TIMING_WARMUP", "100"))
KNOWN_EMAIL = "timing@example.com"
TENANT = "timing"

ENV = {
    **os.environ,
    "DATABASE_URL": DATABASE,
    "DEBUG": "off",
    "SECRET_KEY": "timing-bench-only-secret-key",
    "PORTAL_ENCRYPTION_KEYS": "timing1:9Nf0cS4aYV9V7lQ4w3bq0wqvEx0nq2Ff8a3sOq0kq7M=",
    "STATIC_MANIFEST": "off",
    "SECURE_COOKIES": "off",
    "EMAIL_URL": "filemail://",
    "EMAIL_FILE_PATH": os.path.join(tempfile.gettempdir(), "portal-timing-mail"),
    "CACHE_URL": os.environ.get("TIMING_CACHE_URL", "locmemcache://timing"),
    "LOG_LEVEL": "WARNING",
    "LOGIN_ALERTS": "off",
    "WEB_CONCURRENCY": "1",
    "WEB_THREADS": "8",
    "HOST": "127.0.0.1",
    "DJANGO_SETTINGS_MODULE": "portal.settings",
    # Out of the way: the benchmark sends thousands of failures and resets from one address.
    "AUTH_FAILURE_LIMIT_PER_CLIENT": "1000000000",
    "AUTH_FAILURE_LIMIT_PER_ADDRESS": "1000000000",
    "PASSWORD_RESET_LIMIT_PER_EMAIL": "1000000000",
    "PASSWORD_RESET_LIMIT_PER_ADDRESS": "1000000000",
}

SETUP = """
import json
from apikeys.models import ApiKey
from tenants.models import Tenant
tenant = Tenant.objects.filter(code={tenant!r}).first()
print(json.dumps({{"client_id": ApiKey.objects.filter(tenant=tenant, kind="emporix").values_list("client_id", flat=True).first() if tenant else None}}))
"""


# --- Statistics -------------------------------------------------------------------------------


def _ranks(values: list[float]) -> tuple[list[float], float]:
    """Mid-ranks of `values` (1-based) and the tie correction sum of (t^3 - t)."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    ties = 0.0
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        rank = (start + end) / 2 + 1
        for position in range(start, end + 1):
            ranks[order[position]] = rank
        count = end - start + 1
        ties += count**3 - count
        start = end + 1
    return ranks, ties


def mann_whitney(a: list[float], b: list[float]) -> tuple[float, float]:
    """Two-sided Mann-Whitney U test: (U of `a`, p-value), normal approximation with tie and
    continuity corrections (exact enough for hundreds of samples)."""
    n1, n2 = len(a), len(b)
    ranks, ties = _ranks(a + b)
    u1 = sum(ranks[:n1]) - n1 * (n1 + 1) / 2
    mean = n1 * n2 / 2
    n = n1 + n2
    variance = n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1)))
    if variance <= 0:
        return u1, 1.0
    z = (abs(u1 - mean) - 0.5) / math.sqrt(variance)
    return u1, math.erfc(max(z, 0) / math.sqrt(2))


def hodges_lehmann(a: list[float], b: list[float], limit: int = 1_000_000) -> float:
    """The median of all differences a_i - b_j (a sample of them when there are more than
    `limit`): the shift between the two distributions, robust to outliers."""
    pairs = len(a) * len(b)
    if pairs <= limit:
        differences = [x - y for x in a for y in b]
    else:
        chooser = random.Random(18)
        differences = [chooser.choice(a) - chooser.choice(b) for _ in range(limit)]
    return statistics.median(differences)


def report(name: str, label_a: str, a: list[float], label_b: str, b: list[float]) -> dict:
    u, p = mann_whitney(a, b)
    result = {
        "oracle": name,
        "samples": [len(a), len(b)],
        label_a: {"median_ms": statistics.median(a), "quartiles_ms": statistics.quantiles(a, n=4)},
        label_b: {"median_ms": statistics.median(b), "quartiles_ms": statistics.quantiles(b, n=4)},
        "median_difference_ms": statistics.median(a) - statistics.median(b),
        "hodges_lehmann_shift_ms": hodges_lehmann(a, b),
        "mann_whitney_u": u,
        "p_value": p,
    }
    try:
        from scipy.stats import mannwhitneyu
    except ImportError:
        pass
    else:
        result["scipy_p_value"] = float(mannwhitneyu(a, b, alternative="two-sided").pvalue)
    print(f"\n{name}: {len(a)} + {len(b)} samples, interleaved")
    for label, values in ((label_a, a), (label_b, b)):
        q1, q2, q3 = statistics.quantiles(values, n=4)
        print(f"  {label:<28} median {q2:8.3f} ms   quartiles {q1:.3f} .. {q3:.3f} ms")
    print(f"  difference of the medians    {result['median_difference_ms']:+8.3f} ms")
    print(f"  Hodges-Lehmann shift         {result['hodges_lehmann_shift_ms']:+8.3f} ms")
    verdict = "TELLS THEM APART" if p < 0.01 else "no significant difference"
    print(
        f"  Mann-Whitney U = {u:.0f}, p = {p:.4g}"
        + (f" (scipy: {result['scipy_p_value']:.4g})" if "scipy_p_value" in result else "")
        + f": {verdict}"
    )
    return result


# --- The server -------------------------------------------------------------------------------


def manage(*args: str) -> str:
    return harness.manage(ENV, *args, timeout=600)


def ensure_database() -> str:
    """Create and migrate the database if needed, with the tenant and its admin; the Emporix
    API key's Client ID (a known one)."""
    harness.ensure_database(DATABASE)
    manage("migrate", "--noinput", "-v0")
    found = json.loads(manage("shell", "-v0", "-c", SETUP.format(tenant=TENANT)).strip().splitlines()[-1])
    if found["client_id"]:
        return found["client_id"]
    created = json.loads(manage("create_tenant", TENANT, "--admin", KNOWN_EMAIL, "--json"))
    return next(key["client_id"] for key in created["keys"] if key["kind"] == "emporix")


def start_gunicorn(port: int) -> subprocess.Popen:
    log = open(os.path.join(tempfile.gettempdir(), "portal-timing-gunicorn.log"), "ab")  # noqa: SIM115
    process = subprocess.Popen(
        [GUNICORN, "portal.wsgi", "-c", "gunicorn.conf.py"],
        cwd=ROOT,
        env={**ENV, "PORT": str(port)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    harness.wait_for(f"http://127.0.0.1:{port}/healthz", process)
    return process


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


# --- The requests -----------------------------------------------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection; `timed` sends a request and reads the whole answer,
    returning (status, body, milliseconds from the first byte sent to the last received)."""

    def __init__(self, base: str) -> None:
        parts = urllib.parse.urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        self.cookies: dict[str, str] = {}

    def timed(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes, float]:
        headers = dict(headers)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in range(2):
            try:
                started = time.perf_counter_ns()
                self.conn.request(method, path, body, headers)
                response = self.conn.getresponse()
                data = response.read()
                elapsed = (time.perf_counter_ns() - started) / 1e6
                break
            except (http.client.HTTPException, OSError):
                if attempt:
                    raise
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, data, elapsed


# Wrong secrets and unknown Client IDs need no cryptographic randomness (the portal's own
# cryptography stays in kernel/crypto.py, apikeys/tests/test_crypto.py), only fresh values.
_fresh = random.Random()


def unknown_client_id() -> str:
    return "".join(_fresh.choices(string.ascii_letters + string.digits, k=32))


def wrong_secret() -> str:
    return base64.urlsafe_b64encode(_fresh.randbytes(32)).decode().rstrip("=")


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def token_oracle(base: str, known_client_id: str, samples: int) -> dict:
    known, unknown = Connection(base), Connection(base)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    body = b"grant_type=client_credentials"

    def ask(conn: Connection, client_id: str) -> float:
        status, data, ms = conn.timed(
            "POST", "/oauth/token", body, {**headers, "Authorization": basic(client_id, wrong_secret())}
        )
        if status != 401:
            raise SystemExit(f"/oauth/token answered {status}, not 401: {data[:300]!r}")
        return ms

    a: list[float] = []
    b: list[float] = []
    for index in range(WARMUP + samples):
        pair = [("known", known_client_id), ("unknown", unknown_client_id())]
        random.shuffle(pair)
        for kind, client_id in pair:
            ms = ask(known if kind == "known" else unknown, client_id)
            if index >= WARMUP:
                (a if kind == "known" else b).append(ms)
    return report(
        "token: known Client ID + wrong secret vs unknown Client ID", "known Client ID", a, "unknown Client ID", b
    )


_CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def reset_oracle(base: str, samples: int) -> dict:
    known, unknown = Connection(base), Connection(base)
    tokens = {}
    for name, conn in (("known", known), ("unknown", unknown)):
        status, page, _ = conn.timed("GET", "/accounts/password/reset/", None, {})
        found = _CSRF.search(page)
        if status != 200 or not found:
            raise SystemExit(f"the reset page answered {status} without a CSRF token")
        tokens[name] = found.group(1).decode()

    def ask(conn: Connection, token: str, email: str) -> float:
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "email": email}).encode()
        status, data, ms = conn.timed(
            "POST",
            "/accounts/password/reset/",
            body,
            {"Content-Type": "application/x-www-form-urlencoded", "Referer": base + "/accounts/password/reset/"},
        )
        if status != 302:
            raise SystemExit(f"the reset answered {status}, not 302: {data[:300]!r}")
        return ms

    a: list[float] = []
    b: list[float] = []
    for index in range(WARMUP + samples):
        pair = [("known", KNOWN_EMAIL), ("unknown", f"nobody-{_fresh.randbytes(6).hex()}@example.com")]
        random.shuffle(pair)
        for kind, email in pair:
            ms = ask(known if kind == "known" else unknown, tokens[kind], email)
            if index >= WARMUP:
                (a if kind == "known" else b).append(ms)
    return report("reset: existing account vs no account", "existing account", a, "no account", b)


def main() -> None:
    wanted = sys.argv[1:] or ["token", "reset"]
    if SAMPLES < 500:
        raise SystemExit("TIMING_SAMPLES must be at least 500.")
    base = os.environ.get("TIMING_BASE_URL", "")
    process = None
    if base:
        client_id = os.environ["TIMING_CLIENT_ID"]
    else:
        client_id = ensure_database()
        (port,) = harness.free_ports(1)
        process = start_gunicorn(port)
        base = f"http://127.0.0.1:{port}"
    try:
        git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout
        print(f"portal at {git.stdout.strip()}{' (with uncommitted changes)' if dirty.strip() else ''}, {base}")
        load = os.getloadavg()
        print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs")
        results = []
        if "token" in wanted:
            results.append(token_oracle(base, client_id, SAMPLES))
        if "reset" in wanted:
            results.append(reset_oracle(base, SAMPLES))
        if os.environ.get("TIMING_JSON"):
            Path(os.environ["TIMING_JSON"]).write_text(json.dumps(results, indent=2))
    finally:
        if process is not None:
            stop(process)


if __name__ == "__main__":
    main()
