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
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http.request import split_domain_port, validate_host
from django.urls import Resolver404, resolve
from django.views.decorators.debug import sensitive_variables

from kernel import logs, metrics
from kernel.crypto import digest as token_digest
from kernel.middleware import CONTENT_SECURITY_POLICY
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

# The middleware whose effect on the gateway's answers the lane reproduces (portal/settings.py
# at the time of writing). With any other list the lane is off: a middleware added, removed or
# moved must be looked at here first (what does it do to a gateway check?), and the equivalence
# test (gateway/tests/test_fastlane.py) fails until the lane is on again.
MIDDLEWARE = (
    "kernel.metrics.MetricsMiddleware",
    "kernel.logs.RequestLogMiddleware",
    "kernel.middleware.JsonCharsetMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "kernel.middleware.HttpsRequiredMiddleware",
    "kernel.outages.DatabaseOutageMiddleware",
    "kernel.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "kernel.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "sso.middleware.SamlHostMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "kernel.middleware.AuthenticationMiddleware",
    "kernel.middleware.ControlCharacterPathMiddleware",
    "accounts.sessions.SessionLifetimeMiddleware",
    "kernel.middleware.LoginRequiredMiddleware",
    "kernel.middleware.TimeZoneMiddleware",
    "kernel.middleware.LanguageMiddleware",
    "kernel.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
)

_CONTROL = frozenset(chr(code) for code in range(32)) | {"\x7f"}  # as ControlCharacterPathMiddleware


class _Meta:
    """What `oauth.bearer.bearer_token_from` reads of a request: its META."""

    __slots__ = ("META",)

    def __init__(self, environ: Mapping[str, Any]) -> None:
        self.META = environ


# Hosts whose verdict a configuration keeps at most (a client chooses its Host).
MAX_HOSTS = 256


class _Config:
    """The settings the lane reads, read once (a setting read through django.conf.settings
    costs about a microsecond, and the lane would read twenty per request), and read again when
    a setting changes (the tests' override_settings; settings do not change while serving)."""

    def __init__(self) -> None:
        self.on = settings.GATEWAY_FAST_LANE and tuple(settings.MIDDLEWARE) == MIDDLEWARE
        self.passthrough = settings.GATEWAY_PASSTHROUGH_PREFIXES
        self.urlconf = settings.ROOT_URLCONF
        self.script_name_forced = settings.FORCE_SCRIPT_NAME is not None
        self.forwarded_host = settings.USE_X_FORWARDED_HOST
        self.forwarded_port = settings.USE_X_FORWARDED_PORT
        self.allowed_hosts = settings.ALLOWED_HOSTS
        if settings.DEBUG and not self.allowed_hosts:  # as HttpRequest.get_host()
            self.allowed_hosts = [".localhost", "127.0.0.1", "[::1]"]
        self.proxy_ssl_header = settings.SECURE_PROXY_SSL_HEADER
        # Plain HTTP is left to Django where SecurityMiddleware or HttpsRequiredMiddleware may
        # answer it; CommonMiddleware's user agents and www are left to it too.
        self.https_required = settings.SECURE_SSL_REDIRECT
        self.common_checks = bool(settings.DISALLOWED_USER_AGENTS or settings.PREPEND_WWW)
        self.content_type = f"text/html; charset={settings.DEFAULT_CHARSET}"
        self.tails = {secure: _tail(secure) for secure in (False, True)}
        self.hosts: dict[str, bool] = {}
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

    def host_allowed(self, host: str) -> bool:
        """Django's check of a host against ALLOWED_HOSTS (HttpRequest.get_host)."""
        allowed = self.hosts.get(host)
        if allowed is None:
            domain, _ = split_domain_port(host)
            allowed = bool(domain) and validate_host(domain, self.allowed_hosts)
            if len(self.hosts) < MAX_HOSTS:
                self.hosts[host] = allowed
        return allowed


_config: _Config | None = None


def config() -> _Config:
    global _config
    if _config is None:
        _config = _Config()
    return _config


@receiver(setting_changed)
def _setting_changed(**_: object) -> None:
    global _config
    _config = None


def _host(environ: Mapping[str, Any], conf: _Config, secure: bool) -> str:
    """The host as HttpRequest.get_host() reads it before checking it: X-Forwarded-Host with
    USE_X_FORWARDED_HOST, else Host, else the server's name and port."""
    if conf.forwarded_host and "HTTP_X_FORWARDED_HOST" in environ:
        return environ["HTTP_X_FORWARDED_HOST"]
    if "HTTP_HOST" in environ:
        return environ["HTTP_HOST"]
    host = environ["SERVER_NAME"]
    if conf.forwarded_port and "HTTP_X_FORWARDED_PORT" in environ:
        port = environ["HTTP_X_FORWARDED_PORT"]
    else:
        port = str(environ["SERVER_PORT"])
    return host if port == ("443" if secure else "80") else f"{host}:{port}"


def _secure(environ: Mapping[str, Any], conf: _Config) -> bool:
    """request.is_secure(), as Django reads it: SECURE_PROXY_SSL_HEADER where the proxy sent it,
    else the WSGI server's scheme."""
    if conf.proxy_ssl_header:
        header, secure_value = conf.proxy_ssl_header
        value = environ.get(header)
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return environ.get("wsgi.url_scheme") == "https"


def _tail(secure: bool) -> list[tuple[str, str]]:
    """The headers the middleware add to the gateway check's 200, in the order they add them
    (innermost first): XFrameOptionsMiddleware, CommonMiddleware's Content-Length, kernel's
    SecurityHeadersMiddleware, then Django's SecurityMiddleware. X-Request-ID comes last."""
    tail = [
        ("X-Frame-Options", getattr(settings, "X_FRAME_OPTIONS", "DENY").upper()),
        ("Content-Length", "0"),
        ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ]
    if settings.SECURE_HSTS_SECONDS and secure:
        sts = f"max-age={settings.SECURE_HSTS_SECONDS}"
        if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            sts += "; includeSubDomains"
        if settings.SECURE_HSTS_PRELOAD:
            sts += "; preload"
        tail.append(("Strict-Transport-Security", sts))
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        tail.append(("X-Content-Type-Options", "nosniff"))
    policy = settings.SECURE_REFERRER_POLICY
    if policy:
        values = [v.strip() for v in policy.split(",")] if isinstance(policy, str) else policy
        tail.append(("Referrer-Policy", ",".join(values)))
    # SecurityMiddleware's Cross-Origin-Opener-Policy is a setdefault: the kernel's is there.
    return tail


def _headers(decision: Decision, conf: _Config, secure: bool, request_id: str) -> list[tuple[str, str]]:
    """The 200's headers as gateway.views._respond and the middleware set them."""
    headers = [("Content-Type", conf.content_type)]
    if decision.grant is not None:
        headers.extend(decision.grant.headers.items())
    if decision.route is not None:
        headers.append(("X-Portal-Operation", decision.route.operation_id))
    headers.append(("Cache-Control", "no-store"))
    headers.extend(conf.tails[secure])
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
        if (
            conf.script_name_forced
            or environ.get("SCRIPT_NAME")
            or environ.get("SCRIPT_URL")
            or environ.get("REDIRECT_URL")
        ):
            return None
        path_info = environ["PATH_INFO"]
        if path_info in HEADERS:
            key, path = path_info, path_info
            method_header, uri_header = HEADERS[path_info]
            original_method, uri = environ.get(method_header), environ.get(uri_header)
        elif path_info.startswith(ENVOY):
            key, path = ENVOY, get_path_info(environ)
            if not _CONTROL.isdisjoint(path):
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
        secure = _secure(environ, conf)
        if (conf.https_required and not secure) or conf.common_checks:
            return None
        if not conf.host_allowed(_host(environ, conf, secure)):
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
