"""The portal's PostgreSQL backend: Django's, with connection-pool health checks that usually
cost no round trip. Selected by portal/settings.py for every postgres:// DATABASE_URL.

With CONN_HEALTH_CHECKS and a pool, Django has psycopg's pool send an empty query each time it
hands out a connection: a round trip per request, a large share of a token request's cost; and
after the server ended the pool's connections, the next request waited DATABASE_POOL_TIMEOUT
(2 s) and failed (tried with Django 5.2 and psycopg_pool 3.3: docs/fast-path.md).
Here a connection that passed a full check less than FULL_CHECK_INTERVAL seconds ago is only
looked at: its socket must have nothing to read. A server that ends a connection (restart,
pg_terminate_backend, idle timeout) sends its last message and closes it, which makes the
socket readable; then, and for a connection not fully checked for longer, the pool's own
check (the empty query) runs, and a dead connection is replaced before the request uses it;
finding one dead has the pool test all its idle connections at once.
A connection cut without a word (a network partition) is caught by the full check within
FULL_CHECK_INTERVAL; until then a request on it fails as a database outage (kernel/outages.py),
which has the pool test all its idle connections.

Every query is bound on the server and prepared from its second execution on a connection:
Django's own `server_side_binding` and `prepare_threshold` options (portal/settings.py), not
this backend. A migration that changes a column's type needs the workers restarted (as any
deploy does): a statement prepared before it would no longer match."""

import select
import time
import weakref

from django.db.backends.postgresql import base
from psycopg_pool import ConnectionPool

from .waits import NoAnswer, WaitLimitedConnection

# A connection fully checked less than this long ago is checked without a query.
FULL_CHECK_INTERVAL = 10.0

_fully_checked: "weakref.WeakKeyDictionary[base.Database.Connection, float]" = weakref.WeakKeyDictionary()


def server_has_spoken(conn: base.Database.Connection) -> bool:
    """True if the idle connection is closed or has something to read (or cannot be looked at)."""
    try:
        if conn.closed or conn.broken:
            return True
        poller = select.poll()
        poller.register(conn.fileno(), select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError, base.Database.Error):
        return True


class QuickCheck:
    """The pool's `check`: quiet for a sound connection, raises for a dead one (the pool then
    discards it and hands out another)."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    def __call__(self, conn: base.Database.Connection) -> None:
        now = time.monotonic()
        checked = _fully_checked.get(conn)
        if checked is not None and now - checked < FULL_CHECK_INTERVAL and not server_has_spoken(conn):
            return
        try:
            ConnectionPool.check_connection(conn)
        except NoAnswer:
            raise  # a frozen server: testing the idle connections would wait on each in turn
        except Exception:
            # One ended connection usually means that the server restarted or ended them all.
            # Test the idle ones now (the pool drops the dead and opens new ones), so that this
            # request gets a new connection rather than the next dead one, and psycopg's pool
            # does not wait a second between two failed checks.
            self.pool.check()
            raise
        _fully_checked[conn] = now


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self) -> ConnectionPool | None:
        pool = super().pool
        # Django gives the pool psycopg's check when CONN_HEALTH_CHECKS is on; the pool keeps
        # it as `_check` (psycopg_pool 3.2 and 3.3; test_database_pool_check.py holds this).
        if pool is not None and pool._check is ConnectionPool.check_connection:
            pool._check = QuickCheck(pool)
        if pool is not None and pool.connection_class is not WaitLimitedConnection:
            pool.connection_class = WaitLimitedConnection  # every wait bounded (kernel/postgresql/waits.py)
        return pool

    def get_new_connection(self, conn_params: dict) -> base.Database.Connection:
        connection = super().get_new_connection(conn_params)
        if self.pool is None:
            # Without a pool Django calls psycopg.connect(), which takes no class; the subclass
            # only overrides a method, so the connection becomes one (kernel/postgresql/waits.py).
            connection.__class__ = WaitLimitedConnection
        return connection
