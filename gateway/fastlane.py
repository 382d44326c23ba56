"""The gateway check's fast lane (issue 22): a WSGI application in front of Django's that
answers the check's everyday case itself, a cached allow, without building Django's request or
running the middleware, and hands every other request to Django unchanged.

It answers a request only when all of these hold; otherwise Django answers, as without it:
- GATEWAY_FAST_LANE is on, and MIDDLEWARE is the list the lane was written for;
- the path is one of the gateway check's (/gateway/nginx, /gateway/traefik, /gateway/envoy/...),
  with no script prefix, resolving to the gateway's views, and no control character in it;
- the middleware would certainly pass the request on unchanged: its Host is one of
  ALLOWED_HOSTS (Django's own rule), it came over HTTPS or HTTPS is not required, and neither
  DISALLOWED_USER_AGENTS nor PREPEND_WWW is set;
- the proxy sent the original method and URI, and a well-formed Bearer token whose grant is in
  this process's cache (`decisions.tokens`);
- `decisions.judged` allows the call (the same route, tenant and scope checks as the view).

Then the key's rate limit is applied (`decisions.limited`, which counts the call): within it,
the lane answers the 200 with the headers the view and the middleware would set, counts usage,
logs the request line and records the metrics as the middleware do. Past it, the 429 it reached
goes to the view in the environ (`decisions.DECIDED_ENVIRON_KEY`), with the request's id, so
that the call is counted once and Django answers the refusal.

Nothing here decides anything the view does not: the decision is `decisions.judged` and
`decisions.limited`, the counting `decisions.counted`, the request line and metrics the kernel's.
What is written again here is the shape of the answer (headers Django's middleware add), held
to the Django path's by gateway/tests/test_fastlane.py.
"""

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.handlers.wsgi import get_path_info
from django.urls import Resolver404, resolve
from django.views.decorators.debug import sensitive_variables

from kernel import logs, metrics
from kernel.crypto import digest as token_digest
from kernel.fastlane import CONTROL, Configured, LaneConfig
from oauth.bearer import MalformedAuthorization, bearer_token_from

from .decisions import DECIDED_ENVIRON_KEY, Decision, Grant, counted, judged, limited, tokens
from .views import ENVOY_PREFIX

StartResponse = Callable[..., Any]

# The paths the lane may answer, and the headers each reads the original method and URI from
# (Envoy's: the check's own method, the path after the prefix).
NGINX = "/gateway/nginx"
TRAEFIK = "/gateway/traefik"
HEADERS = {
    NGINX: ("HTTP_X_ORIGINAL_METHOD", "HTTP_X_ORIGINAL_URI"),
    TRAEFIK: ("HTTP_X_FORWARDED_METHOD", "HTTP_X_FORWARDED_URI"),
}
ENVOY = ENVOY_PREFIX + "/"
# The views that answer those paths: a path that resolves elsewhere is left to Django.
VIEWS = {NGINX: "gateway:nginx", TRAEFIK: "gateway:traefik", ENVOY: "gateway:envoy"}


class _Meta:
    """What `oauth.bearer.bearer_token_from` reads of a request: its META."""

    __slots__ = ("META",)

    def __init__(self, environ: Mapping[str, Any]) -> None:
        self.META = environ


class _Config(LaneConfig):
    """The lane's settings (kernel.fastlane.LaneConfig) and the gateway's own."""

    def __init__(self) -> None:
        super().__init__(settings.GATEWAY_FAST_LANE)
        self.passthrough = settings.GATEWAY_PASSTHROUGH_PREFIXES
        self.content_type = f"text/html; charset={settings.DEFAULT_CHARSET}"
        self.tails_of_200 = {secure: self.headers_after(secure, 0) for secure in (False, True)}
        # path -> the URL pattern's name (a metrics label), or None where the path does not
        # resolve to the gateway's view
        self.routes: dict[str, str | None] = {}

    def route(self, key: str) -> str | None:
        """The name of the URL pattern that answers `key` (a path of HEADERS, or ENVOY) if it
        is the gateway view's."""
        if key not in self.routes:
            try:
                match = resolve(key if key != ENVOY else ENVOY + "x", self.urlconf)
            except Resolver404:
                match = None
            self.routes[key] = match.view_name if match is not None and match.view_name == VIEWS[key] else None
        return self.routes[key]


config: Configured[_Config] = Configured(_Config)


def _headers(decision: Decision, conf: _Config, secure: bool, request_id: str) -> list[tuple[str, str]]:
    """The 200's headers as gateway.views._respond and the middleware set them."""
    headers = [("Content-Type", conf.content_type)]
    if decision.grant is not None:
        headers.extend(decision.grant.headers.items())
    if decision.route is not None:
        headers.append(("X-Portal-Operation", decision.route.operation_id))
    headers.append(("Cache-Control", "no-store"))
    headers.extend(conf.tails_of_200[secure])
    headers.append(("X-Request-ID", request_id))
    return headers


class FastLane:
    """The WSGI application: `FastLane(django_application)` (portal/wsgi.py)."""

    def __init__(self, application: Callable[[dict, StartResponse], Iterable[bytes]]) -> None:
        self.application = application

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith("/gateway/"):
            conf = config()
            answered = self._answer(environ, conf) if conf.on else None
            if answered is not None:
                start_response("200 OK", answered)
                return [b""]
        return self.application(environ, start_response)

    def _answer(self, environ: dict, conf: _Config) -> list[tuple[str, str]] | None:
        """The headers of the 200 the lane answered with, or None for Django to answer (and,
        past the key's rate limit, the decision for the view)."""
        started = time.perf_counter()  # MetricsMiddleware's clock
        began = time.monotonic()  # RequestLogMiddleware's
        try:
            found = self._judged(environ, conf)
        except Exception:
            # Django meets the same, and answers and reports it as it does for any view.
            return None
        if found is None:
            return None
        decision, route, path, method, secure = found
        request_id = logs.request_begun(environ)
        decision = limited(decision)
        if decision.status != 200:
            environ[DECIDED_ENVIRON_KEY] = decision
            environ[logs.REQUEST_ID_ENVIRON_KEY] = request_id
            return None
        try:
            counted(decision, environ)
            headers = _headers(decision, conf, secure, request_id)
            logs.request_logged(method, path, 200, began, logs.current_tenant())
            metrics.request_counted("gateway", route, 200, time.perf_counter() - started)
        finally:
            logs.request_ended()
        return headers

    @sensitive_variables("token", "grant")
    def _judged(self, environ: dict, conf: _Config) -> tuple[Decision, str, str, str, bool] | None:
        """A cached allow before the key's rate limit (the decision, the route's name for the
        metrics, request.path and request.method for the log, whether it came over HTTPS), or
        None. Changes nothing."""
        secure = conf.passes(environ)
        if secure is None:
            return None
        path_info = environ["PATH_INFO"]
        if path_info in HEADERS:
            key, path = path_info, path_info
            method_header, uri_header = HEADERS[path_info]
            original_method, uri = environ.get(method_header), environ.get(uri_header)
        elif path_info.startswith(ENVOY):
            key, path = ENVOY, get_path_info(environ)
            if not CONTROL.isdisjoint(path):
                return None
            original_method = environ["REQUEST_METHOD"].upper()
            target = environ.get("RAW_URI") or environ.get("REQUEST_URI")
            if target is None or not target.startswith(ENVOY):
                return None
            uri = target[len(ENVOY_PREFIX) :]
        else:
            return None
        route = conf.route(key)
        if route is None or not original_method or not uri:
            return None
        try:
            token = bearer_token_from(_Meta(environ))
        except MalformedAuthorization:
            return None
        if token is None:
            return None
        grant = tokens.get(token_digest(token))
        if grant is None:
            return None
        decision = judged(original_method, uri, token, passthrough=conf.passthrough, grant_of=_cached(grant))
        if decision.status != 200:
            return None
        return decision, route, path, environ["REQUEST_METHOD"].upper(), secure


def _cached(grant: Grant) -> Callable[[str], Grant | None]:
    def grant_of(_token: str) -> Grant | None:
        return grant

    return grant_of
