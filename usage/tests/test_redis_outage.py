"""Redis is where the processes hand their counts on, not a dependency of a request. With a
real redis-server of the test's own as the default cache, behind the live server:

- frozen (SIGSTOP), while the cache's socket timeout is 30 s: token requests still answer, each
  within the client's 5 s timeout, so none waited on Redis (counting only touches memory; the
  hand-on thread is the one that waits); thawed, every count reaches Redis and the roll-ups;
- frozen with the settings' own short timeout: pushes time out after Redis has received them,
  are sent again, and are counted once (each push has an id Redis remembers);
- stopped, then started again empty on the same port: requests still answer, the counts wait in
  the process's memory and are pushed once Redis is back;
- killed with what it holds: only what was pushed since the last flush is lost (at most one
  flush interval), and counting goes on when it is back.
"""

import logging

import pytest
import requests
from django.db.models import Sum

from conftest import wait_until
from kernel import usage
from portal.settings import cache_config
from usage.flush import Flusher
from usage.models import DayUsage, MinuteUsage

pytestmark = pytest.mark.outside  # redis-server
CLIENT_TIMEOUT = 5  # seconds a request may take before the test fails: far below Redis's 30


def issued(table=MinuteUsage) -> int:
    return table.objects.filter(outcome=usage.ISSUED).aggregate(calls=Sum("calls"))["calls"] or 0


@pytest.fixture
def serving(request, site, redis_server, settings, acme_secrets, monkeypatch):
    """The live server on `redis_server`, with a cache timeout far longer than a request may
    take (or the one given as the fixture's parameter), and a hand-on thread pushing every
    50 ms."""
    config = cache_config(redis_server.url)
    timeout = getattr(request, "param", 30)
    config["OPTIONS"].update(socket_timeout=timeout, socket_connect_timeout=timeout)
    settings.CACHES = {"default": config}
    settings.USAGE_PUSH_SECONDS = 0.05
    monkeypatch.setattr(usage, "_last_warning", {})  # each test sees its own first warning
    key, secret = acme_secrets["emporix"]

    def token() -> int:
        form = {"grant_type": "client_credentials", "client_id": key.client_id, "client_secret": secret}
        return requests.post(f"{site.url}/oauth/token", data=form, timeout=CLIENT_TIMEOUT).status_code

    yield token
    usage.stop()


def in_redis(server) -> int:
    """Calls counted in `server`'s minute hashes."""
    return sum(int(calls) for name in server.client.keys("*usage:m:*") for calls in server.client.hvals(name))


@pytest.mark.django_db(transaction=True)
def test_a_frozen_redis_slows_no_request_and_loses_no_count(serving, redis_server):
    assert serving() == 200
    wait_until(lambda: in_redis(redis_server) == 1, what="the first count pushed")
    redis_server.freeze()
    try:
        answers = [serving() for _ in range(20)]  # each within CLIENT_TIMEOUT, or the test fails
        assert usage._thread is not None and usage._thread.name == "usage-push"
    finally:
        redis_server.thaw()
    assert answers == [200] * 20
    wait_until(lambda: in_redis(redis_server) == 21, 40, what=lambda: f"{in_redis(redis_server)} of 21 in Redis")
    Flusher().flush()
    assert issued() == issued(DayUsage) == 21


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("serving", [0.2], indirect=True)  # CACHE_TIMEOUT_MS's default
def test_a_push_that_timed_out_on_a_frozen_redis_is_counted_once(serving, redis_server, caplog):
    caplog.set_level(logging.WARNING, logger="kernel.usage")
    assert serving() == 200
    wait_until(lambda: in_redis(redis_server) == 1, what="the first count pushed")
    redis_server.freeze()
    try:
        assert [serving() for _ in range(10)] == [200] * 10
        # A push was sent and timed out: Redis holds it, unread, in its socket.
        wait_until(lambda: "Usage counts kept in memory" in caplog.text, what="a push timing out")
    finally:
        redis_server.thaw()
    wait_until(lambda: not usage._pending and in_redis(redis_server) >= 11, 30, what="the pushes sent again")
    usage.stop()  # nothing more in flight
    assert in_redis(redis_server) == 11
    Flusher().flush()
    assert issued() == 11


@pytest.mark.django_db(transaction=True)
def test_counts_wait_in_memory_while_redis_is_down_and_go_when_it_is_back(serving, redis_server, caplog):
    caplog.set_level(logging.WARNING, logger="kernel.usage")
    redis_server.kill()
    assert [serving() for _ in range(10)] == [200] * 10
    wait_until(lambda: "Usage counts kept in memory" in caplog.text, what="the warning")
    assert caplog.text.count("Usage counts kept in memory") == 1  # once a while, not per push
    redis_server.start()  # empty, on the same port
    wait_until(lambda: in_redis(redis_server) == 10, 30, what=lambda: f"{in_redis(redis_server)} of 10 in Redis")
    Flusher().flush()
    assert issued() == 10


@pytest.mark.django_db
def test_a_killed_redis_loses_only_what_it_held_since_the_last_flush(redis_server, settings, acme):
    settings.CACHES = {"default": cache_config(redis_server.url)}

    def count(calls: int) -> None:
        for _ in range(calls):
            usage.count(tenant_id=acme.pk, key_id=None, secret_id=None, operation="x", outcome=usage.ISSUED)
        assert usage.push()

    count(5)
    Flusher().flush()
    count(3)  # pushed, not yet flushed: Redis holds them alone
    redis_server.kill()
    redis_server.start()
    count(2)
    Flusher().flush()
    assert issued() == issued(DayUsage) == 7
