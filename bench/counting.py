#!/usr/bin/env python3
"""What usage counting costs (issue 21): the token endpoint and the gateway check with
USAGE_COUNTING on against off, two fresh portals side by side that serve nothing else.

Uses bench/token_endpoint.py's database and a tenant of its own with a custom key of three
scopes, starts two gunicorns as deployed (gunicorn.conf.py, 2 workers each), identical but for
USAGE_COUNTING, and drives them with wrk in BENCH_PAIRS pairs (default 8) of BENCH_SECONDS
(default 4) each per endpoint, the order within a pair alternating (on-off, off-on), so that a
slow spell of the machine (on 2 cores, a server's rate moves by up to 2x for seconds at a time)
falls on both alike. Prints each pair's ratio and the median (the target: at least 0.90).
"""

import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: the bench package beside it
from bench import harness  # noqa: E402
from bench.token_endpoint import (  # noqa: E402
    CUSTOM_KEY,
    ENV,
    GATEWAY_LUA,
    access_token,
    ensure_database,
    manage,
    run_wrk,
    start,
    token_lua,
)

PAIRS = int(os.environ.get("BENCH_PAIRS", "8"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "4"))
TARGET = 0.90


def main() -> None:
    ensure_database()
    manage("migrate", "--noinput")
    manage("load_scopes")
    code = "count" + time.strftime("%m%d%H%M%S")
    manage("create_tenant", code, "--admin", f"{code}@example.com")
    key = json.loads(manage("shell", "-c", CUSTOM_KEY.format(code=code)).strip().splitlines()[-1])["custom"]
    on_port, off_port = harness.free_ports(2)
    servers = [
        start("counted", "portal.wsgi", on_port, ENV, "gunicorn.conf.py"),
        start("uncounted", "portal.wsgi", off_port, {**ENV, "USAGE_COUNTING": "off"}, "gunicorn.conf.py"),
    ]
    on, off = f"http://127.0.0.1:{on_port}", f"http://127.0.0.1:{off_port}"
    worst = 1.0
    try:
        for url, server in zip((on, off), servers, strict=True):
            harness.wait_for(f"{url}/.well-known/oauth-authorization-server", server)
        route = re.sub(r"\{[^}]+\}", "1", key["route"])
        cases = [
            ("token", "/oauth/token", token_lua(key)),
            ("gateway", "/gateway/nginx", GATEWAY_LUA.format(token=access_token(on, key), route=route)),
        ]
        print(f"usage counting on over off: {PAIRS} pairs of {SECONDS} s per endpoint, order alternating")
        for name, path, lua in cases:
            for url in (on, off):
                run_wrk(url + path, lua, 3)  # warm-up
            ratios = []
            for pair in range(PAIRS):
                order = (on, off) if pair % 2 == 0 else (off, on)
                rates = {url: run_wrk(url + path, lua, SECONDS)["rps"] for url in order}
                ratios.append(rates[on] / rates[off])
            median = statistics.median(ratios)
            worst = min(worst, median)
            print(
                f"{name:<8} median {median:.2f}x (target at least {TARGET:.2f}x); pairs "
                + ", ".join(f"{ratio:.2f}" for ratio in ratios),
                flush=True,
            )
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)
    sys.exit(0 if worst >= TARGET else 1)


if __name__ == "__main__":
    main()
