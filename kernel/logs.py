"""Logs an operator can use: one line per request from the portal itself (it replaces
gunicorn's access log), a request id on every line logged while a request runs, and two
formats, chosen by LOG_FORMAT (see settings): `plain` for a terminal, `json` (one object per
line, written by python-json-logger) for a log pipeline.

What a line may hold is fixed here: the request line has the method, the path without its
query string (anonymous refresh tokens travel there) and with a password-reset link's key
hidden (kernel.logescape.hide_reset_keys), status, duration and tenant code; the
JSON formatter writes only the fields in FIELDS, so objects that other loggers attach (Django's
`request`, whose repr has the query string) never reach the output.
"""

import logging
import re
import time
import uuid
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from .logescape import escape_controls, hide_reset_keys

logger = logging.getLogger("portal.request")

FIELDS = ("time", "level", "logger", "message", "request_id", "method", "path", "status", "duration_ms", "tenant")
# Probes come every few seconds from each load balancer, scrapes from Prometheus: their lines
# are DEBUG.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# What a proxy's request id may look like (nginx's $request_id is 32 hex digits).
REQUEST_ID = re.compile(r"[A-Za-z0-9._:=+/@-]{1,128}")

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
# The tenant a request turned out to act for where its URL names none (the token service's
# clients, once authenticated): tenant_note() sets it, the request line shows it.
_tenant: ContextVar[str | None] = ContextVar("tenant", default=None)


def tenant_note(code: str) -> None:
    """Record that the current request acts for tenant `code` (its request line says so)."""
    _tenant.set(code)


def _forget_request_id(**_: object) -> None:
    # At request_finished, not when the middleware returns: Django logs 4xx and 5xx answers
    # after the last middleware, and those lines belong to the request too.
    _request_id.set(None)


request_finished.connect(_forget_request_id, dispatch_uid="kernel.logs.forget_request_id")


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


class PlainFormatter(logging.Formatter):
    """`time level logger [request id] message`, with control characters in the message
    escaped (a traceback, when there is one, keeps its lines)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape_controls(record.message)
        if getattr(record, "request_id", None) is None:
            record.request_id = "-"
        return super().formatMessage(record)


class JsonFormatter(_JsonFormatter):
    """One JSON object per line: time (ISO 8601, UTC), level, logger, message, the request's
    fields where there are any, and a traceback as `exc_info`; nothing else."""

    def __init__(self) -> None:
        super().__init__(
            ["levelname", "name", "message"],
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
        )

    def process_log_record(self, log_data: dict) -> dict:
        kept = {name: log_data[name] for name in FIELDS if log_data.get(name) is not None}
        if log_data.get("exc_info"):
            kept["exc_info"] = log_data["exc_info"]
        return kept


# Where the WSGI environ keeps the id a request was given before Django saw it (a WSGI-level
# answer that handed the request on: gateway/fastlane.py), so that the request keeps one id.
REQUEST_ID_ENVIRON_KEY = "portal.request_id"


def _trusted_request_id(environ: Mapping[str, Any]) -> str | None:
    """X-Request-ID, but only behind a trusted proxy (TRUSTED_PROXY_HEADER set), which sets
    or overwrites it, and only if it looks like an id."""
    if not settings.TRUSTED_PROXY_HEADER:
        return None
    value = environ.get("HTTP_X_REQUEST_ID", "")
    return value if REQUEST_ID.fullmatch(value) else None


def request_begun(environ: Mapping[str, Any]) -> str:
    """Give the request whose WSGI environ (request.META) is `environ` its id and make it the
    current one (every line logged until request_finished carries it): the id given it
    earlier in this process if any, else a trusted X-Request-ID, else a new one."""
    request_id = environ.get(REQUEST_ID_ENVIRON_KEY) or _trusted_request_id(environ) or uuid.uuid4().hex
    _request_id.set(request_id)
    _tenant.set(None)
    return request_id


def request_ended() -> None:
    """What request_finished does for the log, for an answer given without Django."""
    _request_id.set(None)


def request_logged(method: str, path: str, status: int, started: float, tenant: str | None) -> None:
    """The request's line: `path` as the request has it (request.path), `started` its
    time.monotonic() when it began."""
    duration_ms = round((time.monotonic() - started) * 1000, 1)
    shown = hide_reset_keys(path)[:2000]
    logger.log(
        logging.DEBUG if path in QUIET_PATHS else logging.INFO,
        "%s %s %s %sms%s",
        method,
        shown,
        status,
        duration_ms,
        f" tenant={tenant}" if tenant else "",
        extra={"method": method, "path": shown, "status": status, "duration_ms": duration_ms, "tenant": tenant},
    )


def current_tenant() -> str | None:
    """The tenant the current request noted (tenant_note), if any."""
    return _tenant.get()


def _tenant_code(request: HttpRequest) -> str | None:
    membership = getattr(request, "membership", None)  # set by tenants.access.membership_for
    if membership is not None:
        return membership.tenant.code
    match = request.resolver_match
    code = match.kwargs.get("code") if match is not None else None
    return code or _tenant.get()


class RequestLogMiddleware:
    """Outermost middleware but the metrics' (kernel/metrics.py): gives the request its id
    (echoed in the X-Request-ID response header) and logs one line when the response is ready."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.monotonic()
        request.request_id = request_begun(request.META)
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        request_logged(request.method, request.path, response.status_code, started, _tenant_code(request))
        return response
