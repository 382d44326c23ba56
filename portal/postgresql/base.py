"""The portal's PostgreSQL backend: Django's, with a health check that usually costs no round
trip. Selected by portal/settings.py for every postgres:// DATABASE_URL."""

import select
import time

from django.db.backends.postgresql import base

# A connection that passed a health check less than this long ago is checked without a query.
FULL_CHECK_INTERVAL = 10.0


class DatabaseWrapper(base.DatabaseWrapper):
    """With CONN_HEALTH_CHECKS Django sends SELECT 1 before each request's first query: a round
    trip per request, a large share of a token request's cost. Here a connection checked less
    than FULL_CHECK_INTERVAL seconds ago is only looked at: its socket must have nothing to read.
    A server that ends a connection (restart, pg_terminate_backend, idle timeout) sends its last
    message and closes it, which makes the socket readable; then, and on a connection idle for
    longer, Django's SELECT 1 runs and a dead connection is replaced before the request uses it."""

    _health_checked_at = float("-inf")

    def connect(self) -> None:
        super().connect()
        self._health_checked_at = time.monotonic()

    def close_if_health_check_failed(self) -> None:
        if self.pool or self.connection is None or not self.health_check_enabled or self.health_check_done:
            return super().close_if_health_check_failed()
        now = time.monotonic()
        if now - self._health_checked_at < FULL_CHECK_INTERVAL and not self._server_has_spoken():
            self.health_check_done = True
            return None
        super().close_if_health_check_failed()  # SELECT 1; closes the connection if it fails
        if self.connection is not None:
            self._health_checked_at = now
        return None

    def _server_has_spoken(self) -> bool:
        """True if the idle connection has something to read (or cannot be looked at)."""
        try:
            if self.connection.closed:
                return True
            poller = select.poll()
            poller.register(self.connection.fileno(), select.POLLIN)
            return bool(poller.poll(0))
        except (OSError, ValueError, base.Database.Error):
            return True
