#!/usr/bin/env python3
"""Two instances against one (issue 22, docs/scaling.md): what a second instance costs.

Starts, on this machine, the portal as deployed (gunicorn.conf.py) in two shapes, both behind an
nginx of their own that balances over its upstream with kept-alive connections, as a load
balancer in front of several instances would, and both on the same PostgreSQL and Redis (the
shared cache the per-key limits, rate limits and usage counts need across instances):

  one   one instance of 2 workers
  two   two instances of 1 worker each (the same cores, split over two processes trees that
        share nothing but PostgreSQL and Redis)

and drives each with wrk in BENCH_ROUNDS rounds (default 3) of BENCH_SECONDS (default 10),
alternating, for token issuance (a custom key: an INSERT per token), JWT issuance (no write) and
the gateway check. Prints each shape's requests/s and the ratio two/one: near 1.0 means that
an instance adds no cost of its own, so that N instances on N machines scale with the machines
until PostgreSQL's writes (opaque tokens) or Redis become the limit.
"""

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
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

NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")

NGINX_CONF = """
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream portal {{
{servers}
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://portal;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host 127.0.0.1;
        }}
    }}
}}
"""


def nginx(name: str, port: int, upstreams: list[int]) -> subprocess.Popen:
    directory = Path(tempfile.mkdtemp(prefix=f"bench-nginx-{name}-"))
    servers = "\n".join(f"        server 127.0.0.1:{upstream};" for upstream in upstreams)
    conf = directory / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=directory, servers=servers, port=port))
    return subprocess.Popen([NGINX, "-p", str(directory), "-c", str(conf), "-g", "daemon off;"])


def main() -> None:
    if not Path(NGINX).exists():
        raise SystemExit(f"nginx is needed at {NGINX} (`make nginx` installs it)")
    env = {**ENV, "CACHE_URL": REDIS}
    ensure_database()
    manage("migrate", "--noinput")
    manage("load_scopes")
    code = "inst" + time.strftime("%m%d%H%M%S")
    manage("create_tenant", code, "--admin", f"{code}@example.com")
    keys = json.loads(manage("shell", "-c", CUSTOM_KEY.format(code=code)).strip().splitlines()[-1])
    key, jwt_key = keys["custom"], keys["jwt"]
    one, two_a, two_b, front_one, front_two = harness.free_ports(5)
    processes = [
        start("instance-one", "portal.wsgi", one, {**env, "WEB_CONCURRENCY": "2"}, "gunicorn.conf.py"),
        start("instance-two-a", "portal.wsgi", two_a, {**env, "WEB_CONCURRENCY": "1"}, "gunicorn.conf.py"),
        start("instance-two-b", "portal.wsgi", two_b, {**env, "WEB_CONCURRENCY": "1"}, "gunicorn.conf.py"),
    ]
    fronts = [nginx("one", front_one, [one]), nginx("two", front_two, [two_a, two_b])]
    try:
        for port, process in zip((one, two_a, two_b), processes, strict=True):
            harness.wait_for(f"http://127.0.0.1:{port}/.well-known/oauth-authorization-server", process)
        shapes = {"one": f"http://127.0.0.1:{front_one}", "two": f"http://127.0.0.1:{front_two}"}
        for url, front in zip(shapes.values(), fronts, strict=True):
            harness.wait_for(f"{url}/.well-known/oauth-authorization-server", front)
        route = re.sub(r"\{[^}]+\}", "1", key["route"])
        cases = [
            ("token", "/oauth/token", token_lua(key)),
            ("jwt", "/oauth/token", token_lua(jwt_key)),
            ("gateway", "/gateway/nginx", GATEWAY_LUA.format(token=access_token(shapes["one"], key), route=route)),
        ]
        print(f"one instance of 2 workers against two of 1, behind nginx, {ROUNDS} rounds of {SECONDS} s")
        print(f"{'case':<8} {'one req/s':>10} {'two req/s':>10} {'two/one':>8}  rounds")
        for name, path, lua in cases:
            for url in shapes.values():
                run_wrk(url + path, lua, 3)  # warm-up
            rates: dict[str, list[float]] = {"one": [], "two": []}
            for round_ in range(ROUNDS):
                order = ("one", "two") if round_ % 2 == 0 else ("two", "one")
                for shape in order:
                    result = run_wrk(shapes[shape] + path, lua, SECONDS)
                    if result["errors"]:
                        raise SystemExit(f"{name} on {shape}: {result['errors']} answers were not 2xx")
                    rates[shape].append(result["rps"])
            ratios = [two / one for one, two in zip(rates["one"], rates["two"], strict=True)]
            print(
                f"{name:<8} {statistics.median(rates['one']):>10.1f} {statistics.median(rates['two']):>10.1f} "
                f"{statistics.median(ratios):>7.2f}x  " + ", ".join(f"{ratio:.2f}" for ratio in ratios),
                flush=True,
            )
    finally:
        for process in [*fronts, *processes]:
            process.terminate()
        for process in [*fronts, *processes]:
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
