"""Database outages answered, not crashed.

While PostgreSQL cannot answer (unreachable, shutting down, or a statement that ran into
`lock_timeout` or `statement_timeout`), every request that needs it gets a 503 with
`Retry-After` and `Cache-Control: no-store`: JSON (`temporarily_unavailable`, RFC 6749 5.2) for
the token service and clients that prefer JSON, the styled templates/503.html for pages. The
failure is logged as one line per kind and interval in each process, never a traceback per
request. Recovery needs nothing: Django drops a connection that saw an error at the end of the
request (and CONN_HEALTH_CHECKS tests a reused one first), so the next request reconnects.
With the PostgreSQL connection pool, a lost connection also has the pool test its idle ones
(`_drain_broken_connections`): after a database restart every pooled connection is dead, and
without that each of them would fail one more request before it is dropped. A frozen server
(no answer within DB_CLIENT_TIMEOUT, kernel/postgresql/waits.py) closes only the connection
that waited: the others are sound once the server runs again.

Three ways in, because Django reaches an error by three paths: `DatabaseOutageMiddleware`
answers for exceptions raised by views, `server_error` (handler500) for those raised in
middleware (the session lookup behind `request.user`), and the token service's own decorator
calls `answer` directly.
"""

import logging
import sys
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils import translation
from django.views import defaults
from psycopg_pool import PoolTimeout

from kernel.http import wants_json
from kernel.postgresql.waits import NoAnswer

logger = logging.getLogger(__name__)

DESCRIPTION = "The service is temporarily unavailable. Try again shortly."
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for lock_timeout (and NOWAIT)


def database_failure(exc: BaseException) -> bool:
    """True for errors that mean the database cannot answer now (connection refused or lost,
    server shutting down, lock or statement timeout, SQLite busy), not a bug in a query."""
    return isinstance(exc, (OperationalError, InterfaceError))


def lock_timed_out(exc: BaseException) -> bool:
    """True if `exc` is a wait for a row or table lock that ran past the lock timeout."""
    if getattr(exc.__cause__, "sqlstate", None) == LOCK_NOT_AVAILABLE:
        return True
    return isinstance(exc, OperationalError) and "database is locked" in str(exc)  # SQLite


def _describe(exc: BaseException) -> tuple[str, str]:
    """(class name, first line of the message), of the driver's exception where there is one:
    `LockNotAvailable` says more than Django's `OperationalError`. Later lines (CONTEXT, HINT)
    can quote rows; the first never holds a query or its parameters."""
    cause = exc.__cause__ if exc.__cause__ is not None else exc
    lines = str(cause).strip().splitlines()
    return type(cause).__name__, (lines[0] if lines else "")[:200]


class _Reporter:
    """Logs the first failure of each kind, then at most one line per kind and interval, with
    the number of failures it did not log. Per process; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, int]] = {}  # kind -> (last logged, failures since)

    def __call__(self, what: str, exc: BaseException) -> None:
        name, first_line = _describe(exc)
        kind = f"{what}:{name}"
        now = time.monotonic()
        with self._lock:
            logged_at, unlogged = self._state.get(kind, (None, 0))
            if logged_at is not None and now - logged_at < settings.OUTAGE_LOG_INTERVAL:
                self._state[kind] = (logged_at, unlogged + 1)
                return
            self._state[kind] = (now, 0)
        more = f" ({unlogged} more since the last report)" if unlogged else ""
        logger.error("%s unavailable: %s: %s%s", what, name, first_line, more)

    def reset(self) -> None:
        with self._lock:
            self._state.clear()


report = _Reporter()


def unavailable_json() -> JsonResponse:
    response = JsonResponse({"error": "temporarily_unavailable", "error_description": DESCRIPTION}, status=503)
    response["Pragma"] = "no-cache"
    return _retry_later(response)


def page_language(request: HttpRequest | None) -> str:
    """The language of an error page, without the database: the one LanguageMiddleware chose
    if it ran, else the language cookie or Accept-Language (the user's own setting would need
    the database); English on machine paths."""
    from kernel.middleware import MACHINE_PREFIXES  # not at import: logging's set-up imports this module

    if request is None or request.path_info.startswith(MACHINE_PREFIXES):
        return settings.LANGUAGE_CODE
    return getattr(request, "LANGUAGE_CODE", None) or translation.get_language_from_request(request)


def unavailable_page(request: HttpRequest | None = None) -> HttpResponse:
    # Rendered without the request: context processors (the tenant switcher) and the user
    # in the header would ask the database again.
    with translation.override(page_language(request)):
        html = loader.render_to_string("503.html", {"retry_after": settings.OUTAGE_RETRY_AFTER})
    response = HttpResponse(html, status=503)
    response["Content-Language"] = page_language(request)
    return _retry_later(response)


def _retry_later(response: HttpResponse) -> HttpResponse:
    response["Retry-After"] = str(settings.OUTAGE_RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    return response


def answer(request: HttpRequest, exc: BaseException, *, json: bool = False) -> HttpResponse:
    """Report a database failure (once per interval) and answer 503: JSON if asked for or
    preferred by the client, else the page."""
    report("database", exc)
    if _connection_broke(exc):
        _drain_broken_connections()
    return unavailable_json() if json or wants_json(request) else unavailable_page(request)


def _connection_broke(exc: BaseException) -> bool:
    """True if the failure says that a connection broke (then the idle ones likely did too).
    Not for a lock timeout (the connections are sound), nor for a server that did not answer
    in time (NoAnswer) or a pool that had no connection to give in time (PoolTimeout): the
    server may be frozen, and testing the idle connections would wait on each in turn."""
    return not lock_timed_out(exc) and not isinstance(exc.__cause__, (NoAnswer, PoolTimeout))


def _drain_broken_connections() -> None:
    """Have the connection pool (if there is one) test its idle connections and drop the dead
    ones. Cheap: an empty query per idle connection, and only after a failure."""
    try:
        pool = connections["default"].pool
        if pool is not None:
            pool.check()
    except Exception:  # the pool is an optimisation; the 503 is already decided
        logger.debug("pool check failed", exc_info=True)


class DatabaseOutageMiddleware:
    """Answers a view's database failure with a 503 (see the module's docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return answer(request, exception) if database_failure(exception) else None


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: Django calls it inside its `except`, so the exception is at hand. A
    database failure raised in middleware is a 503 like any other; the rest a plain 500."""
    exc = sys.exc_info()[1]
    if exc is not None and database_failure(exc):
        return answer(request, exc)
    with translation.override(page_language(request)):  # raised in middleware, perhaps before the language was chosen
        return defaults.server_error(request)


class HideOutageResponses(logging.Filter):
    """For the django.request logger, which logs every 5xx response (with its traceback when
    it came from an exception): 503s are outages and readiness answers, reported once per
    interval by `report`, so the per-request lines are dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "status_code", None) != 503
