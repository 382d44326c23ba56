"""A key's rate limit holds across instances (issue 21, "Done when"): two gunicorn servers on
their own ports share one database and one redis-server (started here on a free port), and take
token requests and gateway checks for the same key, one after the other and all at once. In a
window exactly the limit is let through, whichever instance each request reaches: the count
lives in Redis, each answer decided on its atomic increment.

Then the redis-server is stopped: every request is still answered (200 or 429, never an error),
and the limit fails open to one limit per process, as the portal's other limits do
(kernel.ratelimit counts in each process's memory): each instance, one process each, lets the
limit through on its own.

The servers' clocks cannot be moved, so each burst starts early in a minute (awaited, with a
deadline) and all of it falls in one minute's window."""

import os
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, closing

import pytest

from conftest import wait_until

from .serving import Answer, free_port, gunicorn, request, served_database, token_request
from .test_cache_outage import REDIS_SERVER, RedisServer

pytestmark = [
    pytest.mark.outside,  # two gunicorn servers and a redis-server
    pytest.mark.skipif(not os.access(REDIS_SERVER, os.X_OK), reason="redis-server is not installed"),
]

LIMIT = 10
ROUTE = "/customer/edge/customers"  # the Emporix API key of tenant `edge` may read it


def run_sql(env: dict[str, str], statement: str, *params) -> None:
    """One statement on the instances' database (PostgreSQL or the SQLite file)."""
    url = env["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        import sqlite3

        with closing(sqlite3.connect(url.removeprefix("sqlite:///"), timeout=10)) as db, db:
            db.execute(statement.replace("%s", "?"), params)
        return
    import psycopg

    with psycopg.connect(url, connect_timeout=5) as db:
        db.execute(statement, params)


def early_in_a_minute() -> None:
    """Until the clock is in the first 30 seconds of a minute: a burst started then ends in
    the same minute's window (a burst takes a few seconds)."""
    wait_until(lambda: time.time() % 60 < 30, 35, what="the first half of a minute")


def gateway_check(url: str, token: str) -> Answer:
    return request(
        f"{url}/gateway/nginx",
        headers={"X-Original-Method": "GET", "X-Original-URI": ROUTE, "Authorization": f"Bearer {token}"},
    )


def allowed(answers: list[Answer]) -> int:
    """How many answers were 200; every other one must be the key's 429 with a Retry-After
    within the minute."""
    for answer in answers:
        assert answer.status in (200, 429), (answer.status, answer.body[:300])
        if answer.status == 429:
            assert answer.json()["error"] == "slow_down"
            assert 1 <= int(answer.headers["Retry-After"]) <= 60
    return sum(answer.status == 200 for answer in answers)


@pytest.fixture
def instances(tmp_path):
    """(Client ID, secret, redis-server, [url of A, url of B], their logs' folder): the Emporix API key
    of `edge` limited to LIMIT requests a minute; both servers stopped at the end."""
    redis_server = RedisServer()
    with ExitStack() as stack:
        stack.callback(redis_server.stop)
        env, client_id, secret = stack.enter_context(
            served_database(
                tmp_path,
                "keylimit",
                SECRET_KEY="key-limit-test-secret-key",
                STATIC_MANIFEST="off",
                SECURE_COOKIES="off",
                CACHE_URL=redis_server.url,
                WEB_CONCURRENCY="1",
                WEB_THREADS="4",
            )
        )
        run_sql(
            env,
            "UPDATE apikeys_apikey SET rate_limit = %s, rate_limit_period = 'minute' WHERE client_id = %s",
            LIMIT,
            client_id,
        )
        urls = []
        for name in ("a", "b"):
            port = free_port()
            stack.enter_context(gunicorn(env, tmp_path / f"{name}.log", port=port))
            urls.append(f"http://127.0.0.1:{port}")
        yield client_id, secret, redis_server, urls, tmp_path


def test_a_keys_limit_holds_across_two_instances_and_fails_open_per_process_without_redis(instances):
    client_id, secret, redis_server, (a, b), logs = instances
    assert a != b
    early_in_a_minute()
    # Token requests, alternating between the instances: each took five, and both refuse now.
    first = token_request(a, client_id, secret)
    assert first.status == 200, first.body[:300]
    token = first.json()["access_token"]
    answers = [token_request(url, client_id, secret) for url in (b, a) * 10]
    assert allowed(answers) == LIMIT - 1
    assert [answer.status for answer in answers[: LIMIT - 1]] == [200] * (LIMIT - 1)
    assert {answer.status for answer in answers[LIMIT - 1 :]} == {429}
    # Gateway checks, all at once from eight threads, spread over both instances.
    with ThreadPoolExecutor(8) as pool:
        checks = list(pool.map(lambda n: gateway_check((a, b)[n % 2], token), range(40)))
    assert allowed(checks) == LIMIT
    assert redis_server.counted() > 0  # the counters live in Redis

    # Redis stops: every request is answered, each instance counting in its own memory.
    redis_server.stop()
    early_in_a_minute()
    token = token_request(b, client_id, secret).json()["access_token"]
    answers = [token_request(url, client_id, secret) for url in (a, b) * 12]
    by_instance = {url: allowed(answers[index::2]) for index, url in enumerate((a, b))}
    assert by_instance == {a: LIMIT, b: LIMIT - 1}  # B's first request minted `token`
    checks = [gateway_check(url, token) for url in (a, b) * 12]
    assert {url: allowed(checks[index::2]) for index, url in enumerate((a, b))} == {a: LIMIT, b: LIMIT}
    for name in ("a", "b"):
        text = (logs / f"{name}.log").read_text()
        assert "Traceback" not in text, name
        assert "Rate-limit cache unavailable" in text, name
