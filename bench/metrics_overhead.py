#!/usr/bin/env python3
"""What the metrics middleware (kernel/metrics.py) adds to a request, in microseconds.

Calls kernel.metrics.MetricsMiddleware BENCH_CALLS times (default 200,000, in 10 rounds: the
fastest counts) around a view that returns a ready response at once, and the view alone as
many times, for a token request
(/oauth/token, 200) and a gateway check (/gateway/nginx, 200: also counts the decision), in
the two modes the portal runs in, each in a process of its own because prometheus-client
chooses its mode when first imported:

  single         one process (runserver, tests): values in the process's memory
  multiprocess   gunicorn's workers: values in memory-mapped files in PROMETHEUS_MULTIPROC_DIR

and prints the time per call with and without the middleware and the difference, beside the
time a token request takes on this machine's 2 gthread workers at the last `make bench` figure
(BENCH_TOKEN_US, default 650 us: 1,550 req/s on 1 core each), as a share of it. No server, no
database, no network: the middleware's own cost, free of wrk's noise. Takes a few seconds.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CALLS = int(os.environ.get("BENCH_CALLS", "200000"))
ROUNDS = 10
TOKEN_US = float(os.environ.get("BENCH_TOKEN_US", "650"))
CASES = (("token", "/oauth/token", "oauth", "token"), ("gateway", "/gateway/nginx", "gateway", "nginx"))


def best_of(handler, request, rounds: int = ROUNDS) -> float:
    """Microseconds per call, the fastest of `rounds` rounds of CALLS / rounds calls: the others
    include time the machine gave to other processes."""
    calls = CALLS // rounds
    fastest = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(calls):
            handler(request)
        fastest = min(fastest, (time.perf_counter() - started) / calls * 1e6)
    return fastest


def measure() -> None:
    """In this process: per case, microseconds per call without and with the middleware."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.http import HttpResponse
    from django.test import RequestFactory
    from django.urls import ResolverMatch

    from kernel.metrics import MetricsMiddleware

    response = HttpResponse(status=200)
    for name, path, namespace, url_name in CASES:
        request = RequestFactory().post(path)
        request.resolver_match = ResolverMatch(
            lambda r: response, (), {}, url_name=url_name, app_names=[namespace], namespaces=[namespace]
        )

        def view(_request, response=response):
            return response

        middleware = MetricsMiddleware(view)
        middleware(request)  # the labelled children made
        timings = [best_of(handler, request) for handler in (view, middleware)]
        print(f"{name} {timings[0]:.3f} {timings[1]:.3f}", flush=True)


def run(mode: str) -> list[tuple[str, float, float]]:
    env = {key: value for key, value in os.environ.items() if key != "PROMETHEUS_MULTIPROC_DIR"}
    with tempfile.TemporaryDirectory(prefix="bench-metrics-") as directory:
        if mode == "multiprocess":
            env["PROMETHEUS_MULTIPROC_DIR"] = directory
        out = subprocess.run(
            [sys.executable, __file__, "--measure"], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        ).stdout
    rows = []
    for line in out.splitlines():
        name, bare, counted = line.split()
        rows.append((name, float(bare), float(counted)))
    return rows


def main() -> None:
    print(
        f"{CALLS:,} calls per figure (the fastest of {ROUNDS} rounds); a token request taken as {TOKEN_US:.0f} us (BENCH_TOKEN_US)"
    )
    print(f"{'mode':<14}{'request':<9}{'view us':>9}{'with us':>9}{'added us':>10}{'of a token':>12}")
    for mode in ("single", "multiprocess"):
        for name, bare, counted in run(mode):
            added = counted - bare
            print(f"{mode:<14}{name:<9}{bare:>9.2f}{counted:>9.2f}{added:>10.2f}{added / TOKEN_US:>11.2%}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--measure"]:
        measure()
    else:
        main()
