"""The worker's keep-alive linger (kernel/handoff.py): after answering a kept-alive connection, the
thread that served it serves the client's next request itself if it arrives within
KEEPALIVE_LINGER, instead of handing the connection back to the worker's poller."""

import socket
import threading
import time
from types import SimpleNamespace

import pytest
from gunicorn.workers.gthread import ThreadWorker

from kernel import handoff
from kernel.handoff import HandoffThreadWorker, _next_request_within


class _Buffer:
    def __init__(self, data: bytes = b"") -> None:
        self.data = data

    def getvalue(self) -> bytes:
        return self.data


def _conn(sock: socket.socket, read_ahead: bytes = b"") -> SimpleNamespace:
    return SimpleNamespace(
        sock=sock, is_http2=False, parser=SimpleNamespace(unreader=SimpleNamespace(buf=_Buffer(read_ahead)))
    )


@pytest.fixture
def pair():
    ours, theirs = socket.socketpair()
    yield ours, theirs
    ours.close()
    theirs.close()


def test_a_request_already_sent_is_seen_at_once(pair):
    ours, theirs = pair
    theirs.sendall(b"GET / HTTP/1.1\r\n\r\n")
    started = time.monotonic()
    assert _next_request_within(_conn(ours), 5.0) is True
    assert time.monotonic() - started < 1.0


def test_bytes_read_ahead_count_without_the_socket(pair):
    ours, _ = pair
    assert _next_request_within(_conn(ours, read_ahead=b"GET / HT"), 0.001) is True


def test_a_request_that_arrives_within_the_linger_is_waited_for(pair):
    ours, theirs = pair
    threading.Timer(0.05, lambda: theirs.sendall(b"GET / HTTP/1.1\r\n\r\n")).start()
    assert _next_request_within(_conn(ours), 5.0) is True


def test_an_idle_client_is_given_back_after_the_linger(pair):
    ours, _ = pair
    started = time.monotonic()
    assert _next_request_within(_conn(ours), 0.05) is False
    assert 0.04 <= time.monotonic() - started < 1.0


def test_a_closed_connection_ends_the_wait(pair):
    ours, theirs = pair
    theirs.close()
    assert _next_request_within(_conn(ours), 5.0) is True  # readable: its handling sees the end


def _worker(alive: bool = True, handoff_since: float | None = None) -> HandoffThreadWorker:
    worker = HandoffThreadWorker.__new__(HandoffThreadWorker)
    worker.alive = alive
    worker._handoff_since = handoff_since
    return worker


@pytest.mark.parametrize(
    ("alive", "handoff_since", "linger", "served"),
    [
        (True, None, 0.5, 3),  # the two next requests on the same thread
        (False, None, 0.5, 1),  # stopping: back to the poller, which closes it
        (True, 1.0, 0.5, 1),  # handing off to new workers
        (True, None, 0.0, 1),  # turned off (WEB_KEEPALIVE_LINGER_MS=0)
    ],
)
def test_the_worker_serves_the_next_requests_on_the_same_thread(
    pair, monkeypatch, alive, handoff_since, linger, served
):
    ours, theirs = pair
    handled = []

    def handle(self, conn):  # gthread's own: one request; True: kept alive
        handled.append(threading.get_ident())
        return bool(conn.sock.recv(1) and len(handled) < 3)

    monkeypatch.setattr(ThreadWorker, "handle", handle)
    monkeypatch.setattr(handoff, "KEEPALIVE_LINGER", linger)
    theirs.sendall(b"abc")  # three requests' worth, one byte each
    result = _worker(alive, handoff_since).handle(_conn(ours))
    assert len(handled) == served and set(handled) == {threading.get_ident()}
    assert result is (served < 3)  # kept alive, for the poller, unless the last one ended it
