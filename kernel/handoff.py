"""Graceful reloads without a stall: on HUP the old gunicorn workers go on serving until the new
ones are ready, instead of stopping at once.

gunicorn's reload forks the new workers and, in the same breath, sends the old ones SIGTERM,
which stops their accepting. The new ones accept only once they have imported Django and the
portal: seconds on a loaded host (4.9 s measured in issue 18, more under heavier load), while
every new connection waits in the listen backlog. So the workers here (`HandoffThreadWorker`,
gunicorn's gthread worker) hand off instead:

- the master notes, when a reload starts (gunicorn.conf.py's `on_reload`), which workers are the
  old generation (those up to the newest worker's age) and how many new ones to expect;
- a new worker, once it has loaded and warmed the application (`warm_up`, from
  `post_worker_init`), says it is ready, just before it starts accepting;
- an old worker given SIGTERM during a reload goes on accepting until every new worker is
  ready (or HANDOFF_TIMEOUT passes), then stops as gunicorn's worker always does: it finishes
  what it has in flight and closes its kept-alive connections, whose clients reconnect to the
  new workers.

A SIGTERM that is not part of a reload (stopping the server, fewer workers) stops a worker at
once, as before, and so does a second SIGTERM. The state is a small anonymous shared memory
mapping made by the master before its first fork, so every worker it forks shares it; the
master writes the generation, each new worker only its own ready flag, so no lock is needed.

This module is imported into the gunicorn master (gunicorn.conf.py), which must not load
Django: `warm_up` imports it only in a worker.
"""

import logging
import mmap
import os
import select
import struct
import time

from gunicorn.workers.gthread import ThreadWorker

from kernel.acceptshare import ConnectionShares

logger = logging.getLogger(__name__)

# An old worker stops waiting for the new ones after this long (a new worker that cannot boot
# makes the master stop anyway); well under gunicorn's graceful_timeout (30 s), for which the
# master waits for the old workers during a reload.
HANDOFF_TIMEOUT = 20.0
# After answering a kept-alive connection, the thread that served it waits this long for the
# client's next request before it hands the connection back to the worker's poller. A client
# that sends its next request at once (an SDK's connection pool, a proxy's kept-alive upstream
# connections) is then served on the same thread, without the two thread hand-offs and the
# poller's register and unregister that each request costs otherwise. 0 turns it off.
KEEPALIVE_LINGER = float(os.environ.get("WEB_KEEPALIVE_LINGER_MS", "2")) / 1000
MAX_WORKERS = 1024
_HEADER = struct.Struct("qq")  # the newest worker age of the old generation; new workers expected


class Handoff:
    """What the master and its workers share about the reload underway."""

    def __init__(self) -> None:
        # Anonymous and MAP_SHARED (mmap's default): inherited by every process forked later.
        self._memory = mmap.mmap(-1, _HEADER.size + MAX_WORKERS)

    def reload_started(self, *, newest_age: int, workers: int) -> None:
        """In the master, before it forks the new generation: workers up to `newest_age` are old."""
        self._memory[_HEADER.size : _HEADER.size + MAX_WORKERS] = bytes(MAX_WORKERS)
        _HEADER.pack_into(self._memory, 0, newest_age, min(workers, MAX_WORKERS))

    def _generation(self) -> tuple[int, int]:
        return _HEADER.unpack_from(self._memory, 0)

    def is_old(self, age: int) -> bool:
        """True for a worker that a reload underway replaces."""
        newest_old, _ = self._generation()
        return age <= newest_old

    def worker_ready(self, age: int) -> None:
        """In a new worker, once it can serve."""
        newest_old, expected = self._generation()
        if 0 < age - newest_old <= expected:
            self._memory[_HEADER.size + age - newest_old - 1] = 1

    def new_generation_ready(self) -> bool:
        _, expected = self._generation()
        start = _HEADER.size
        return all(self._memory[start : start + expected])


class HandoffThreadWorker(ThreadWorker):
    """gunicorn's gthread worker, which hands off to the new generation on a reload (see the
    module's docstring). `handoff` is set by the master's pre_fork hook."""

    handoff: Handoff | None = None
    # The workers' connection counts (kernel/acceptshare.py), set by the master's pre_fork hook.
    shares: ConnectionShares | None = None
    _handoff_since: float | None = None
    _connections_limit = 0

    # gthread's loop reads this before each wait to decide whether to accept: it is the limit
    # gunicorn configured (worker_connections), or, while this worker holds more connections
    # than its share (kernel/acceptshare.py), the number it holds, so that it takes none now
    # and the worker with the fewest takes the next. Each read also renews this worker's entry.
    @property
    def worker_connections(self) -> int:
        limit, shares = self._connections_limit, self.shares
        if shares is None or not self.alive:
            return limit
        slot, now = shares.slot(self.age), time.monotonic()
        shares.report(slot, self.nr_conns, now)
        if self.nr_conns < limit and not shares.may_accept(slot, self.nr_conns, now):
            return self.nr_conns
        return limit

    @worker_connections.setter
    def worker_connections(self, value: int) -> None:
        self._connections_limit = value

    def accept(self, listener) -> None:
        super().accept(listener)
        if self.shares is not None:
            self.shares.report(self.shares.slot(self.age), self.nr_conns)

    def handle(self, conn):
        """gthread's handling of one request, then of the connection's next ones for as long as
        each arrives within KEEPALIVE_LINGER (and this worker is not stopping or handing off)."""
        result = super().handle(conn)
        while (
            result is True
            and KEEPALIVE_LINGER > 0
            and self.alive
            and self._handoff_since is None
            and not conn.is_http2
            and _next_request_within(conn, KEEPALIVE_LINGER)
        ):
            result = super().handle(conn)
        return result

    def run(self) -> None:
        # Loaded and warmed (post_worker_init ran): accepting starts now.
        if self.handoff is not None:
            self.handoff.worker_ready(self.age)
        try:
            super().run()
        finally:
            if self.shares is not None:
                self.shares.leave(self.shares.slot(self.age))

    def handle_exit(self, sig, frame) -> None:
        if self.handoff is not None and self._handoff_since is None and self.handoff.is_old(self.age):
            self._handoff_since = time.monotonic()
            return  # go on serving; notify() stops accepting once the new workers are ready
        if self.shares is not None:
            self.shares.leave(self.shares.slot(self.age))  # stopping: the others take what comes
        super().handle_exit(sig, frame)

    def notify(self) -> None:
        # Called on every turn of the worker's loop (at least once a second): the heartbeat,
        # and the moment to see whether the handoff is done.
        super().notify()
        if self._handoff_since is None or not self.alive:
            return
        waited = time.monotonic() - self._handoff_since
        if self.handoff.new_generation_ready() or waited > HANDOFF_TIMEOUT:
            if waited > HANDOFF_TIMEOUT:
                self.log.warning("Worker %s stops after %.0f s without all new workers ready", self.pid, waited)
            super().handle_exit(None, None)


def _next_request_within(conn, seconds: float) -> bool:
    """True if the connection has its next request's bytes (or its end) already read ahead, or
    they arrive within `seconds`."""
    if conn.parser.unreader.buf.getvalue():
        return True
    sock = conn.sock
    pending = getattr(sock, "pending", None)  # TLS: bytes decrypted already are not on the socket
    if pending is not None and pending():
        return True
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN)
    return bool(poller.poll(seconds * 1000))


def warm_up() -> None:
    """In a new worker, before it accepts: what its first requests would otherwise do while
    clients wait. Django is set up already (gunicorn loaded portal.wsgi); every URLconf and
    view module is imported and the URL resolver filled, and a database connection is opened
    (with the pool: the pool opens, with its minimum of connections). A database that cannot
    answer now is no reason not to serve: the requests will answer 503 until it can."""
    from django.db import DatabaseError, connection
    from django.urls import get_resolver

    started = time.monotonic()
    resolver = get_resolver()
    resolver.reverse_dict  # noqa: B018 (populates the resolver: imports every URLconf and view)
    try:
        connection.ensure_connection()
    except DatabaseError as exc:
        logger.warning("worker warm-up: no database connection (%s)", type(exc).__name__)
    finally:
        connection.close()  # back to the pool; without one, the thread that serves opens its own
    logger.debug("worker warmed up in %.2f s", time.monotonic() - started)
