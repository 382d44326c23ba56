"""Two Django handlers, one WSGI application: the token service's and the gateway check's paths
(kernel.middleware.MACHINE_LANE_PREFIXES) are served by a handler built without the middleware
that do nothing on them (settings.PAGE_ONLY_MIDDLEWARE), every other path by the full one.

Each middleware layer costs every request its call and Django's exception wrapper, even when it
only passes the request on: nine of them on a token request, about a tenth of a millisecond of
CPU here, on a path whose whole budget is about a millisecond and a half. The answers are the
same: portal/tests/test_machine_lane.py serves the token service's requests, its errors and its
404s through both handlers and compares status, headers and body. MACHINE_LANE=off serves every
path with the full list."""

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler

from kernel.middleware import MACHINE_LANE_PREFIXES


class LeanHandler(WSGIHandler):
    """Django's WSGI handler with `middleware` instead of settings.MIDDLEWARE."""

    def __init__(self, middleware: list[str]) -> None:
        self._middleware = middleware
        super().__init__()

    def load_middleware(self, is_async: bool = False) -> None:
        # Django's loader reads settings.MIDDLEWARE; it runs once, while the application is
        # built (before any request), so the list is swapped for that call only.
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = self._middleware
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full


class Lanes:
    """The WSGI application: the lean handler for the machine lane's paths, else the full one."""

    def __init__(self, full: Callable[..., Iterable[bytes]]) -> None:
        self.full = full
        page_only = set(settings.PAGE_ONLY_MIDDLEWARE)
        unknown = page_only - set(settings.MIDDLEWARE)
        if unknown:
            raise ValueError(f"PAGE_ONLY_MIDDLEWARE names middleware not in MIDDLEWARE: {sorted(unknown)}")
        self.lean = LeanHandler([path for path in settings.MIDDLEWARE if path not in page_only])

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(MACHINE_LANE_PREFIXES):
            return self.lean(environ, start_response)
        return self.full(environ, start_response)


def application_with_lanes(full: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """`full` alone with MACHINE_LANE off; else the two lanes."""
    return Lanes(full) if settings.MACHINE_LANE else full
