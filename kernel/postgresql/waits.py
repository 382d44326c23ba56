"""A client-side limit on every wait for PostgreSQL's answer.

`statement_timeout` and `lock_timeout` are enforced by the server. A server that is frozen
(SIGSTOP, a host stalled on its storage, a hung hypervisor) never sends their error, and its
kernel still accepts connections and acknowledges what is sent, so TCP keepalives and
`tcp_user_timeout` (portal/settings.py; they catch a peer whose kernel is gone) see nothing
wrong either: libpq would wait for the whole freeze. So each wait psycopg makes on an open
connection (a query, a commit, the pool's check) is bounded here by `DB_CLIENT_TIMEOUT`
milliseconds, a margin above the statement timeout so that a working server's own timeout
(a clean error that keeps the connection) always comes first.

When the limit passes, the connection is mid-exchange and cannot be reused (cancelling the
statement would need the frozen server), so it is closed and `NoAnswer` raised: an
OperationalError, which the portal answers with its outage 503 (kernel/outages.py); the pool
discards the closed connection and opens a new one once the server answers again.
Connecting is bounded by libpq's `connect_timeout` and waiting for a pooled connection by the
pool's `timeout` (both in portal/settings.py)."""

import inspect
from typing import TypeVar

import psycopg
from django.conf import settings
from psycopg.abc import PQGen

RV = TypeVar("RV")

# psycopg's own default for how often a wait wakes up (to notice Ctrl-C).
_INTERVAL: float = inspect.signature(psycopg.Connection.wait).parameters["interval"].default
# What psycopg raises when a wait's timeout passes (private: an upgrade that renames it fails
# here, at import, and test_database_frozen.py tells).
_WaitTimeout = psycopg.errors._WaitTimeout


class NoAnswer(psycopg.OperationalError):
    """PostgreSQL did not answer within DB_CLIENT_TIMEOUT; the connection was closed."""


def wait_limit() -> float | None:
    """Seconds a wait may take (None: no limit, DB_CLIENT_TIMEOUT=0)."""
    milliseconds = getattr(settings, "DB_CLIENT_TIMEOUT", 0)
    return milliseconds / 1000 if milliseconds else None


class WaitLimitedConnection(psycopg.Connection):
    """psycopg's connection, whose waits without a timeout of their own get wait_limit()."""

    def wait(self, gen: PQGen[RV], interval: float = _INTERVAL, timeout: float | None = None) -> RV:
        if timeout is not None:  # a caller that chose its own (LISTEN's notifies())
            return super().wait(gen, interval, timeout)
        limit = wait_limit()
        try:
            return super().wait(gen, interval, limit)
        except _WaitTimeout:
            self.pgconn.finish()  # as psycopg does when a cancelled query never ends
            raise NoAnswer(f"no answer from the database server within {limit:g} s; connection closed") from None
