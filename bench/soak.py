#!/usr/bin/env python3
"""Memory under a long load (issue 22, docs/scaling.md): the gunicorn workers' resident memory
(RSS) through a BENCH_SOAK_SECONDS soak (default 600), against its figure after the warm-up.

Creates (or reuses) the database of bench/token_endpoint.py (BENCH_DATABASE_URL), a tenant with a
custom key, a JWT key and a management-API key, starts the portal as deployed (gunicorn.conf.py,
2 workers), warms it up, and then drives it with wrk in slices of BENCH_SECONDS (default 30),
round robin over: token issuance (opaque and JWT), the gateway check, token info and a page of
the management API's keys. After each slice it reads every worker's VmRSS from /proc and prints
it. At the end it prints each worker's RSS at the start and the end and their ratio (the budget:
1.10); exits 1 past it, if a worker was replaced (its pid changed: a leak would hide in a
restart), or if any request failed.
"""

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: the bench package beside it
from bench import harness  # noqa: E402
from bench.token_endpoint import (  # noqa: E402
    BEARER_LUA,
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

SOAK = int(os.environ.get("BENCH_SOAK_SECONDS", "600"))
SLICE = int(os.environ.get("BENCH_SECONDS", "30"))
BUDGET = 1.10

API_KEY = """
import json
from apikeys.services import key_create
from scopes.models import Scope
from tenants.models import Tenant
key, secret = key_create(tenant=Tenant.objects.get(code={code!r}), kind="custom", name="Soak API",
                         scopes=Scope.objects.filter(name="portal.key_read"))
print(json.dumps({{"client_id": key.client_id, "secret": secret}}))
"""


def workers(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return sorted(int(pid) for pid in children)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def main() -> None:
    import json
    import re

    ensure_database()
    manage("migrate", "--noinput")
    manage("load_scopes")
    code = "soak" + time.strftime("%m%d%H%M%S")
    manage("create_tenant", code, "--admin", f"{code}@example.com")
    keys = json.loads(manage("shell", "-c", CUSTOM_KEY.format(code=code)).strip().splitlines()[-1])
    api = json.loads(manage("shell", "-c", API_KEY.format(code=code)).strip().splitlines()[-1])
    (port,) = harness.free_ports(1)
    server = start("soak", "portal.wsgi", port, ENV, "gunicorn.conf.py")
    portal = f"http://127.0.0.1:{port}"
    samples: dict[int, list[int]] = {}
    errors = 0
    try:
        harness.wait_for(f"{portal}/.well-known/oauth-authorization-server", server)
        route = re.sub(r"\{[^}]+\}", "1", keys["custom"]["route"])
        cases = [
            ("token", f"{portal}/oauth/token", token_lua(keys["custom"])),
            ("jwt", f"{portal}/oauth/token", token_lua(keys["jwt"])),
            (
                "gateway",
                f"{portal}/gateway/nginx",
                GATEWAY_LUA.format(token=access_token(portal, keys["custom"]), route=route),
            ),
            ("tokeninfo", f"{portal}/oauth/tokeninfo", BEARER_LUA.format(token=access_token(portal, api))),
            ("api_keys", f"{portal}/api/v1/keys/?limit=100", BEARER_LUA.format(token=access_token(portal, api))),
        ]
        for _, url, lua in cases:  # warm-up: every path's code and caches loaded once
            errors += run_wrk(url, lua, 5)["errors"]
        pids = workers(server.pid)
        for pid in pids:
            samples[pid] = [rss_kib(pid)]
        print(f"after the warm-up: {', '.join(f'{pid} {samples[pid][0] / 1024:.1f} MiB' for pid in pids)}", flush=True)
        started = time.monotonic()
        turn = 0
        while time.monotonic() - started < SOAK:
            name, url, lua = cases[turn % len(cases)]
            turn += 1
            result = run_wrk(url, lua, SLICE)
            errors += result["errors"]
            now = workers(server.pid)
            if now != pids:
                sys.exit(f"the workers changed from {pids} to {now}: a restart would hide a leak")
            for pid in pids:
                samples[pid].append(rss_kib(pid))
            print(
                f"{time.monotonic() - started:>5.0f} s {name:<10} {result['rps']:>7.0f}/s  "
                + ", ".join(f"{samples[pid][-1] / 1024:.1f}" for pid in pids)
                + " MiB",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"\nsoak of {SOAK} s in slices of {SLICE} s; the portal as deployed (gunicorn.conf.py, 2 workers)")
    worst = 0.0
    for pid, values in samples.items():
        ratio = values[-1] / values[0]
        worst = max(worst, ratio)
        print(
            f"worker {pid}: start {values[0] / 1024:.1f} MiB, end {values[-1] / 1024:.1f} MiB, "
            f"max {max(values) / 1024:.1f} MiB, end/start {ratio:.3f}"
        )
    print(f"worst end/start {worst:.3f} (budget {BUDGET})")
    if errors:
        sys.exit(f"{errors} requests failed")
    sys.exit(0 if worst <= BUDGET else 1)


if __name__ == "__main__":
    main()
