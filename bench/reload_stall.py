#!/usr/bin/env python3
"""Latency of POST /oauth/token across graceful reloads (HUP), as `systemctl reload` sends them
after an upgrade.

Creates (or reuses) the PostgreSQL database RELOAD_DATABASE_URL (default
portal_reliability_bench on 127.0.0.1), migrates it and creates a tenant with
`create_tenant --json`. Then it starts the portal as gunicorn.conf.py configures it (2 gthread
workers, DEBUG off) and drives the token endpoint with wrk for RELOAD_SECONDS (default 20) over
RELOAD_CONNECTIONS connections (default 32). It sends the gunicorn master HUP at a third and at
two thirds of the run (RELOAD_HUPS=0: never, for comparison), then prints wrk's p50, p99, p99.9
and maximum latency, how many requests took a second or more, and the errors (socket errors and
non-2xx answers). wrk's timeout is
30 s, so that a stalled request counts with its whole wait instead of vanishing as a timeout.

    .venv/bin/python bench/reload_stall.py

The machine's other load shows in the figures: run it more than once and compare like with like.
"""

import base64
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: the bench package beside it
from bench import harness  # noqa: E402

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))  # make's .venv Python
WRK = os.environ.get("WRK", "/usr/bin/wrk")
SECONDS = int(os.environ.get("RELOAD_SECONDS", "20"))
CONNECTIONS = int(os.environ.get("RELOAD_CONNECTIONS", "32"))
DATABASE = os.environ.get("RELOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_reliability_bench")
# RELOAD_HUPS=0 for the same run without a reload: the machine's own latency, to compare with.
HUPS = int(os.environ.get("RELOAD_HUPS", "2"))
SLOW_MS = 1000

ENV = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "HOME": os.environ.get("HOME", "/tmp"),
    "DJANGO_SETTINGS_MODULE": "portal.settings",
    "DATABASE_URL": DATABASE,
    "DEBUG": "off",
    "SECRET_KEY": "bench-only-secret-key",
    "PORTAL_ENCRYPTION_KEYS": "bench1:9Nf0cS4aYV9V7lQ4w3bq0wqvEx0nq2Ff8a3sOq0kq7M=",
    "STATIC_MANIFEST": "off",
    "SECURE_COOKIES": "off",
    "EMAIL_URL": "filemail://",
    "EMAIL_FILE_PATH": os.path.join(tempfile.gettempdir(), "portal-reload-bench-mail"),
    "CACHE_URL": os.environ.get("RELOAD_CACHE_URL", "redis://127.0.0.1:6379/9"),
    "LOG_LEVEL": "WARNING",
    "LOG_FORMAT": "plain",
    "WEB_CONCURRENCY": "2",
    "HOST": "127.0.0.1",
    # gunicorn's control socket defaults to one path per user: not another server's.
    "GUNICORN_CMD_ARGS": "--no-control-socket",
}

# wrk's summary, from its done() hook: latencies in microseconds.
TOKEN_LUA = """
wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic {credentials}"

function done(summary, latency, requests)
  local slow = 0
  for _, p in pairs({{50, 99, 99.9}}) do
    io.write(string.format("p%s %d\\n", p, latency:percentile(p)))
  end
  for i = 1, #latency do
    local value, count = latency(i)
    if value >= {slow_us} then slow = slow + count end
  end
  local e = summary.errors
  io.write(string.format("max %d\\nrequests %d\\nslow %d\\n", latency.max, summary.requests, slow))
  io.write(string.format("errors connect=%d read=%d write=%d timeout=%d status=%d\\n",
    e.connect, e.read, e.write, e.timeout, e.status))
end
"""


def parse(out: str) -> dict[str, str]:
    values = {}
    for line in out.splitlines():
        name, _, value = line.partition(" ")
        if name in {"p50", "p99", "p99.9", "max", "requests", "slow", "errors"}:
            values[name] = value
    return values


def main() -> None:
    if not Path(WRK).exists():
        raise SystemExit(f"wrk is needed at {WRK} (apt-get install -y wrk)")
    harness.ensure_database(DATABASE)
    harness.manage(ENV, "migrate", "--noinput", "-v0")
    code = "reload" + time.strftime("%m%d%H%M%S")
    tenant = json.loads(harness.manage(ENV, "create_tenant", code, "--admin", f"{code}@example.com", "--json"))
    emporix = next(key for key in tenant["keys"] if key["kind"] == "emporix")
    credentials = base64.b64encode(f"{emporix['client_id']}:{emporix['secret']}".encode()).decode()

    (port,) = harness.free_ports(1)
    base = f"http://127.0.0.1:{port}"
    log_path = Path(tempfile.gettempdir()) / "reload-stall-gunicorn.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [GUNICORN, "portal.wsgi", "-c", "gunicorn.conf.py"],
            cwd=ROOT,
            env={**ENV, "PORT": str(port)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    hups: list[float] = []
    try:
        harness.wait_for(base + "/readyz", server)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(TOKEN_LUA.format(credentials=credentials, slow_us=SLOW_MS * 1000))
        # Warm-up: both workers have served before the measurement.
        subprocess.run(
            [WRK, "-t2", f"-c{CONNECTIONS}", "-d3s", "-s", script.name, base + "/oauth/token"],
            check=True,
            capture_output=True,
        )

        def reloads() -> None:
            for at in [SECONDS * (n + 1) / (HUPS + 1) for n in range(HUPS)]:
                time.sleep(max(0.0, started + at - time.monotonic()))
                server.send_signal(signal.SIGHUP)
                hups.append(time.monotonic() - started)

        started = time.monotonic()
        sender = threading.Thread(target=reloads)
        sender.start()
        out = subprocess.run(
            [
                WRK,
                "-t2",
                f"-c{CONNECTIONS}",
                f"-d{SECONDS}s",
                "--timeout",
                "30s",
                "-s",
                script.name,
                base + "/oauth/token",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        sender.join()
        os.unlink(script.name)
    finally:
        server.terminate()
        server.wait(timeout=60)

    values = parse(out)
    ms = {name: int(values[name]) / 1000 for name in ("p50", "p99", "p99.9", "max")}
    print(
        f"wrk {SECONDS}s, {CONNECTIONS} connections, POST /oauth/token; HUP at "
        + (" and ".join(f"{at:.1f}s" for at in hups) or "no time (RELOAD_HUPS=0)")
        + f"; gunicorn.conf.py ({ENV['WEB_CONCURRENCY']} gthread workers), PostgreSQL"
    )
    print(
        f"requests {values['requests']}  p50 {ms['p50']:.1f} ms  p99 {ms['p99']:.1f} ms  "
        f"p99.9 {ms['p99.9']:.1f} ms  max {ms['max']:.1f} ms  >= {SLOW_MS} ms: {values['slow']}"
    )
    print(f"errors: {values['errors']}")
    log_text = log_path.read_text()
    print(f"gunicorn log: {log_path} ({log_text.count('Booting worker')} workers booted)")
    if "Traceback" in log_text:
        print("the gunicorn log holds a traceback")
    if ms["p99"] >= SLOW_MS:
        sys.exit(f"p99 {ms['p99']:.0f} ms is not under {SLOW_MS} ms")


if __name__ == "__main__":
    main()
