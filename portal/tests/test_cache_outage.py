"""The cache is an accelerator, not a dependency. A real redis-server, started here on a free
port, is the rate limits' cache for the live server (the settings' own cache_config, so with
its short timeouts); it is then frozen (SIGSTOP) or stopped during requests. Token issuing,
introspection, anonymous login and portal login keep answering correctly within 1 s each, the
limits keep holding (in process memory), one warning is logged per interval, and counting
returns to Redis when it answers again. Counting across processes in Redis is exact."""

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from conftest import PASSWORD, MovedClock, free_port, wait_until
from kernel import ratelimit
from portal.settings import cache_config

REDIS_SERVER = "/usr/bin/redis-server"
ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.outside,  # redis-server, and Django processes counting in it
    pytest.mark.skipif(not os.access(REDIS_SERVER, os.X_OK), reason="redis-server is not installed"),
]


class RedisServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        self.client = __import__("redis").Redis.from_url(self.url, socket_timeout=1)
        wait_until(self.client.ping, 10, what="redis-server answering", ignoring=(Exception,))

    def counted(self) -> int:
        """The sum of every counter in this Redis."""
        return sum(int(self.client.get(key) or 0) for key in self.client.keys())  # noqa: SIM118  (Redis KEYS, not a dict)

    def freeze(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        self.thaw()
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def redis_server():
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture
def clock(monkeypatch) -> MovedClock:
    """The rate limits' clock (the live server runs in this process): moved past
    CACHE_RETRY_SECONDS instead of waiting it out."""
    clock = MovedClock()
    monkeypatch.setattr(ratelimit, "monotonic", clock)
    return clock


@pytest.fixture
def portal_on_redis(site, redis_server, acme_secrets, settings, clock, caplog):
    """The live server, its rate limits counted in `redis_server`."""
    settings.CACHES = {"default": cache_config(redis_server.url)}
    settings.AUTH_FAILURE_LIMIT_PER_CLIENT = 3
    caplog.set_level(logging.INFO, logger="kernel.ratelimit")
    return site


def timed(call) -> requests.Response:
    began = time.monotonic()
    response = call()
    elapsed = time.monotonic() - began
    assert elapsed < 1.0, f"{response.request.method} {response.request.path_url} took {elapsed:.2f} s"
    return response


class Calls:
    """The four requests that must survive the cache, each checked for its right answer."""

    def __init__(self, url: str, acme_secrets) -> None:
        self.url = url
        self.key, self.secret = acme_secrets["emporix"]
        self.storefront = acme_secrets["storefront"][0]

    def token(self, secret: str | None = None) -> requests.Response:
        form = {"grant_type": "client_credentials", "client_id": self.key.client_id}
        return timed(
            lambda: requests.post(f"{self.url}/oauth/token", data={**form, "client_secret": secret or self.secret})
        )

    def all_four(self) -> None:
        token = self.token()
        assert token.status_code == 200, token.text
        described = timed(
            lambda: requests.post(
                f"{self.url}/oauth/introspect",
                data={"token": token.json()["access_token"]},
                auth=(self.key.client_id, self.secret),
            )
        )
        assert described.status_code == 200 and described.json()["active"] is True
        anonymous = timed(
            lambda: requests.get(
                f"{self.url}/customerlogin/auth/anonymous/login",
                params={"tenant": "acme", "client_id": self.storefront.client_id},
            )
        )
        assert anonymous.status_code == 200 and anonymous.json()["access_token"]
        browser = requests.Session()
        browser.get(f"{self.url}/accounts/login/")
        form = {
            "username": "alice@example.com",
            "password": PASSWORD,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
        }
        login = timed(lambda: browser.post(f"{self.url}/accounts/login/", data=form, allow_redirects=False))
        assert login.status_code == 302, login.text
        assert browser.get(f"{self.url}/tenants/", allow_redirects=False).status_code == 200


def warnings_in(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "kernel.ratelimit" and r.levelno == logging.WARNING]


def test_a_frozen_redis_costs_no_request_more_than_a_second(portal_on_redis, redis_server, acme_secrets, caplog, clock):
    calls = Calls(portal_on_redis.url, acme_secrets)
    calls.all_four()
    assert calls.token("wrong").status_code == 401
    counted = redis_server.counted()
    assert counted > 0  # the counters live in Redis

    redis_server.freeze()
    for _ in range(3):
        calls.all_four()
        clock.advance(ratelimit.CACHE_RETRY_SECONDS)  # Redis is tried again, and times out again
    # The limit still holds, counted in process memory: 3 failures, then 429.
    assert [calls.token("wrong").status_code for _ in range(4)] == [401, 401, 401, 429]
    assert len(warnings_in(caplog)) == 1
    assert "TimeoutError" in warnings_in(caplog)[0]

    redis_server.thaw()
    clock.advance(ratelimit.CACHE_RETRY_SECONDS)
    calls.all_four()
    assert redis_server.counted() > counted  # counting in Redis again
    assert any("answers again" in r.getMessage() for r in caplog.records if r.name == "kernel.ratelimit")
    assert len(warnings_in(caplog)) == 1


def test_a_stopped_redis_costs_no_request_more_than_a_second(
    portal_on_redis, redis_server, acme_secrets, caplog, clock
):
    calls = Calls(portal_on_redis.url, acme_secrets)
    calls.all_four()
    redis_server.stop()
    for _ in range(3):
        calls.all_four()
        clock.advance(ratelimit.CACHE_RETRY_SECONDS)  # Redis is tried again, and refused
    assert [calls.token("wrong").status_code for _ in range(4)] == [401, 401, 401, 429]
    assert len(warnings_in(caplog)) == 1
    assert "ConnectionError" in warnings_in(caplog)[0]


COUNTING_PROCESS = """
import sys, django
django.setup()
from kernel import ratelimit
print("ready", flush=True)
now = float(sys.stdin.readline())
counter = [ratelimit.Counter("test:processes", ("203.0.113.7",), 10)]
print(sum(ratelimit.hit(counter, window=300, now=now) is None for _ in range(10)))
"""


def test_processes_counting_at_once_in_redis_never_get_past_the_limit(redis_server):
    # Four processes (instances) share one Redis; 40 hits at once, a limit of 10.
    env = {**os.environ, "CACHE_URL": redis_server.url, "DJANGO_SETTINGS_MODULE": "portal.settings"}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", COUNTING_PROCESS],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    for process in processes:  # every one has started Django
        assert process.stdout.readline() == "ready\n"
    now = f"{time.time()}\n"
    allowed = [int(process.communicate(now, timeout=60)[0]) for process in processes]
    assert sum(allowed) == 10
    assert redis_server.counted() == 40
