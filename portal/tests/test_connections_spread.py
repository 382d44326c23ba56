"""Kept-alive connections spread evenly over gunicorn's workers (kernel/acceptshare.py): without
it, the first worker to wake took every connection of a burst often enough (2 runs of 14 took all
8 of 8 connections, 2 more 7 of 8) to halve a server's rate for as long as they lived."""

import http.client
import re
import subprocess
from collections import Counter

import pytest

from conftest import wait_until
from kernel.acceptshare import SLACK, STALE_SECONDS, ConnectionShares
from portal.tests.serving import free_port, gunicorn

CONNECTIONS = 8
BURSTS = 10


def test_a_worker_past_its_share_stops_accepting_and_the_fewest_always_accepts():
    shares = ConnectionShares()
    shares.report(1, 0, now=100.0)
    shares.report(2, 3, now=100.0)
    assert shares.may_accept(2, 3, now=100.5) is False  # 3 > 0 + SLACK
    assert shares.may_accept(1, 0, now=100.5) is True
    assert shares.may_accept(2, SLACK, now=100.5) is True  # a few connections are always taken


def test_a_worker_that_stopped_beating_or_left_no_longer_holds_the_others_back():
    shares = ConnectionShares()
    shares.report(1, 0, now=100.0)
    assert shares.may_accept(2, 5, now=100.0 + STALE_SECONDS + 0.1) is True  # stale: killed
    shares.report(1, 0, now=200.0)
    assert shares.may_accept(2, 5, now=200.0) is False
    shares.leave(1)  # the master reaped it
    assert shares.may_accept(2, 5, now=200.0) is True


def test_alone_a_worker_takes_every_connection():
    shares = ConnectionShares()
    assert shares.may_accept(3, 1000, now=1.0) is True


def _holders(port: int, *states: str) -> Counter:
    """The server's connections on `port` in `states` (default: established), counted per
    process (ss's pid=)."""
    filters = [word for state in (states or ("established",)) for word in ("state", state)]
    listing = subprocess.run(
        ["ss", "-tnpH", *filters, f"( sport = :{port} )"], capture_output=True, text=True, check=True
    ).stdout
    return Counter(re.findall(r"pid=(\d+)", listing))


def _burst(port: int) -> tuple[list[http.client.HTTPConnection], Counter]:
    """CONNECTIONS connections opened at once, each kept alive after one answer (like a proxy's
    pool), and how many of them each worker holds."""
    clients = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(CONNECTIONS)]
    for client in clients:
        client.connect()
    for client in clients:
        client.request("GET", "/healthz")
        response = client.getresponse()
        response.read()
        assert response.status == 200
    return clients, _holders(port)


@pytest.mark.outside  # gunicorn
def test_connections_opened_at_once_spread_over_the_two_workers(served, tmp_path):
    env, _, _ = served
    port = free_port()
    with gunicorn({**env, "WEB_CONCURRENCY": "2"}, tmp_path / "gunicorn.log", port=port):
        # The server answers as soon as one worker is up; the other may still be warming up.
        wait_until(lambda: len(_close_all(*_burst(port))) == 2, timeout=30)
        for _ in range(BURSTS):
            # From idle, as a proxy's pool starts: the workers have closed the last burst's
            # connections (until a worker reads the client's close, its count still holds them).
            wait_until(lambda: not _holders(port, "established", "close-wait"), timeout=10)
            clients, held = _burst(port)
            _close_all(clients, held)
            assert sum(held.values()) == CONNECTIONS
            assert len(held) == 2 and min(held.values()) >= 2, held


def _close_all(clients: list[http.client.HTTPConnection], held: Counter) -> Counter:
    for client in clients:
        client.close()
    return held
