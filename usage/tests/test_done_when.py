"""Issue 21's "Done when", end to end with real parts: a custom key of 40 scopes, used through
the gateway check of a real gunicorn for operations that exactly 3 of its scopes open; the
counts travel from the server's process memory through a redis-server of the test's own and a
real `usage_flush --forever` worker into PostgreSQL's roll-ups; then an admin in Chromium reads
the key's usage page (exactly the calls sent), its access advice (the other 37 scopes unused)
and narrows it to what is used (exactly the 3 left)."""

import json
import os
import subprocess
import sys
from contextlib import ExitStack

import pytest

from conftest import wait_until
from portal.tests.serving import ROOT, free_port, gunicorn, manage, request, served_database, token_request

from .conftest import REDIS_SERVER, RedisServer

pytestmark = [
    pytest.mark.outside,  # gunicorn, a redis-server, the flush worker and Chromium
    pytest.mark.browser,
    pytest.mark.skipif(not os.access(REDIS_SERVER, os.X_OK), reason="redis-server is not installed"),
]

PASSWORD = "done-when-password-1"

# In the served database: a custom key of 40 scopes of which 3 each open a GET route of the
# tenant that none of the other 37 opens (so that "used" can only mean those 3), and a route
# that none of the 40 opens (its calls are refused: insufficient_scope).
KEY = """
import json
from apikeys.services import key_create
from scopes.models import Scope
from scopes.routes import route_table
from tenants.models import Tenant
table = route_table()
offered = list(Scope.objects.offered().exclude(service__key="portal").order_by("name"))
def own_routes(scope, others):
    return [r for r in table.opened_by_scope(scope.name)
            if r.method == "GET" and r.has_tenant and r.token_required and r.operation_id
            and not (set(r.any_of_scopes) & others)]
chosen, used = [], []
names = {s.name for s in offered}
for scope in offered:
    others = names - {scope.name}
    routes = own_routes(scope, others)
    if routes and len(used) < 3:
        used.append((scope, routes[0]))
    if len(chosen) < 37 and scope not in [u[0] for u in used] and table.opened_by_scope(scope.name):
        chosen.append(scope)
    if len(used) == 3 and len(chosen) == 37:
        break
held = {s.name for s in chosen} | {s.name for s, _ in used}
assert len(held) == 40
refused = next(r for r in table.routes if r.method == "GET" and r.has_tenant and r.token_required
               and r.operation_id and r.any_of_scopes and not (set(r.any_of_scopes) & held))
tenant = Tenant.objects.get(code="edge")
key, secret = key_create(tenant=tenant, kind="custom", name="Forty scopes",
                         scopes=Scope.objects.filter(name__in=held))
print(json.dumps({"client_id": key.client_id, "secret": secret, "public_id": str(key.public_id),
                  "used": [[s.name, r.example_path("edge"), r.operation_id] for s, r in used],
                  "refused": [refused.example_path("edge"), refused.operation_id]}))
"""


def _fill(path: str) -> str:
    """A route's example path with any placeholder left filled in."""
    import re

    return re.sub(r"\{[^}]+\}", "1", path)


def _rows(env, table: str) -> dict[tuple[str, str], int]:
    import psycopg

    with psycopg.connect(env["DATABASE_URL"], connect_timeout=5) as db:
        rows = db.execute(
            f"SELECT operation, outcome, SUM(calls) FROM usage_{table} GROUP BY operation, outcome"
        ).fetchall()
    return {(operation, outcome): int(calls) for operation, outcome, calls in rows}


@pytest.fixture
def served(tmp_path):
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        pytest.skip("the roll-ups are checked in PostgreSQL")
    redis_server = RedisServer()
    with ExitStack() as stack:
        stack.callback(redis_server.stop)
        env, _, _ = stack.enter_context(
            served_database(
                tmp_path,
                "donewhen",
                password=PASSWORD,
                SECRET_KEY="done-when-test-secret-key",
                STATIC_MANIFEST="off",
                SECURE_COOKIES="off",
                CACHE_URL=redis_server.url,
                USAGE_PUSH_SECONDS="0.2",
                USAGE_FLUSH_SECONDS="0.5",
                WEB_CONCURRENCY="2",
            )
        )
        key = json.loads(manage(env, "shell", "-c", KEY).strip().splitlines()[-1])
        port = free_port()
        stack.enter_context(gunicorn(env, tmp_path / "web.log", port=port))
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "usage_flush", "--forever"],
            cwd=ROOT,
            env=env,
            stdout=open(tmp_path / "flush.log", "w"),  # noqa: SIM115  (the worker keeps it)
            stderr=subprocess.STDOUT,
        )
        stack.callback(lambda: (worker.terminate(), worker.wait(30)))
        yield env, key, f"http://127.0.0.1:{port}"


def test_three_of_forty_scopes_used_show_exactly_those_calls_and_narrow_to_them(served, browser):
    env, key, url = served
    token_answer = token_request(url, key["client_id"], key["secret"])
    assert token_answer.status == 200, token_answer.body[:300]
    token = token_answer.json()["access_token"]
    sent: dict[tuple[str, str], int] = {("oauth.token", "issued"): 1}
    for times, (_, path, operation) in zip((5, 3, 2), key["used"], strict=True):
        for _ in range(times):
            answer = request(
                f"{url}/gateway/nginx",
                headers={"X-Original-Method": "GET", "X-Original-URI": _fill(path), "Authorization": f"Bearer {token}"},
            )
            assert answer.status == 200, answer.body[:300]
        sent[(operation, "allowed")] = times
    refused_path, refused_operation = key["refused"]
    for _ in range(2):
        answer = request(
            f"{url}/gateway/nginx",
            headers={
                "X-Original-Method": "GET",
                "X-Original-URI": _fill(refused_path),
                "Authorization": f"Bearer {token}",
            },
        )
        assert answer.status == 403
    sent[(refused_operation, "insufficient_scope")] = 2

    # Within a flush interval or so the roll-ups hold exactly what was sent, in each table.
    wait_until(lambda: _rows(env, "dayusage") == sent, 30, what="the flushed counts")
    assert _rows(env, "minuteusage") == sent
    assert _rows(env, "hourusage") == sent

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{url}/accounts/login/")
    page.fill("input[name=username]", "edge@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()

    # The key's usage page: 13 calls, 11 successful, the refusals by reason.
    page.goto(f"{url}/tenants/edge/api-keys/{key['public_id']}/usage/?range=24h")
    text = page.locator("main").inner_text()
    assert "13 calls in the last 24 hours, 11 succeeded, 2 failed" in text
    rows = page.locator("table").filter(has_text="Operation").locator("tbody tr")
    shown = sorted(tuple(cell.strip() for cell in row.inner_text().split("\t")[-2:]) for row in rows.all())
    assert shown == sorted([("5", "0"), ("3", "0"), ("2", "0"), ("2", "2"), ("1", "0")])
    assert "Missing scope\t2" in text

    # The advisor: the other 37 unused; narrowing leaves exactly the 3.
    page.goto(f"{url}/tenants/edge/access-advisor/{key['public_id']}/")
    page.get_by_text("37 scopes unused in 90 days").first.wait_for()
    page.get_by_role("link", name="Narrow to what is used: Forty scopes").click()
    page.get_by_role("button", name="Keep 3 scopes").click()
    page.get_by_text("Forty scopes now keeps the 3 scopes it used.").wait_for()
    context.close()

    import psycopg

    with psycopg.connect(env["DATABASE_URL"], connect_timeout=5) as db:
        held = db.execute(
            "SELECT s.name FROM apikeys_apikey_scopes ks JOIN scopes_scope s ON s.id = ks.scope_id "
            "JOIN apikeys_apikey k ON k.id = ks.apikey_id WHERE k.client_id = %s ORDER BY s.name",
            [key["client_id"]],
        ).fetchall()
    assert [name for (name,) in held] == sorted(name for name, _, _ in key["used"])
