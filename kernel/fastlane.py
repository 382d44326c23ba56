"""What the fast lanes in front of Django share (issue 22): the gateway check's
(gateway/fastlane.py, a cached allow) and the token endpoint's (oauth/fastlane.py, client
credentials). A lane is a WSGI application that answers its everyday case itself, without
building Django's request or running the middleware, and hands every other request to Django.

It may answer only where the middleware would certainly pass the request on unchanged, and it
must answer with the headers they would add. Both are read here once per configuration:
- `MIDDLEWARE`, the list the lanes were written for: with any other list they are off;
- `LaneConfig.passes`: Django's own rules for the Host (ALLOWED_HOSTS), HTTPS
  (SECURE_SSL_REDIRECT, SECURE_PROXY_SSL_HEADER), the script prefix and CommonMiddleware's
  user agents and www, read off the WSGI environ;
- `LaneConfig.tails`: the headers the middleware add to an answer, in their order.

Each lane's equivalence test serves a matrix of requests with the lane on and off and compares
status, body, headers, usage, metrics and log records (gateway/tests/test_fastlane.py,
oauth/tests/test_fastlane.py)."""

from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.core.signals import setting_changed
from django.http.request import split_domain_port, validate_host

from kernel.middleware import CONTENT_SECURITY_POLICY

# The middleware whose effect on the lanes' answers they reproduce (portal/settings.py at the
# time of writing). With any other list the lanes are off: a middleware added, removed or moved
# must be looked at in each lane first (what does it do to its answers?), and the equivalence
# tests fail until the lanes are on again.
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

CONTROL = frozenset(chr(code) for code in range(32)) | {"\x7f"}  # as ControlCharacterPathMiddleware

# Hosts whose verdict a configuration keeps at most (a client chooses its Host).
MAX_HOSTS = 256


class LaneConfig:
    """The settings a lane reads, read once (a setting read through django.conf.settings costs
    about a microsecond, and a lane would read twenty per request); a lane builds its config
    again when a setting changes (the tests' override_settings; settings do not change while
    serving)."""

    def __init__(self, switch: bool) -> None:
        self.on = switch and tuple(settings.MIDDLEWARE) == MIDDLEWARE
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
        self.tails = {secure: _tail(secure) for secure in (False, True)}
        self.hosts: dict[str, bool] = {}

    def host_allowed(self, host: str) -> bool:
        """Django's check of a host against ALLOWED_HOSTS (HttpRequest.get_host)."""
        allowed = self.hosts.get(host)
        if allowed is None:
            domain, _ = split_domain_port(host)
            allowed = bool(domain) and validate_host(domain, self.allowed_hosts)
            if len(self.hosts) < MAX_HOSTS:
                self.hosts[host] = allowed
        return allowed

    def passes(self, environ: Mapping[str, Any]) -> bool | None:
        """Whether the request came over HTTPS, if the middleware would pass it on unchanged;
        None if Django must answer it: a script prefix, plain HTTP where HTTPS is required,
        CommonMiddleware's checks in use, or a Host not allowed."""
        if (
            self.script_name_forced
            or environ.get("SCRIPT_NAME")
            or environ.get("SCRIPT_URL")
            or environ.get("REDIRECT_URL")
        ):
            return None
        secure = self.secure(environ)
        if (self.https_required and not secure) or self.common_checks:
            return None
        if not self.host_allowed(self.host(environ, secure)):
            return None
        return secure

    def host(self, environ: Mapping[str, Any], secure: bool) -> str:
        """The host as HttpRequest.get_host() reads it before checking it: X-Forwarded-Host
        with USE_X_FORWARDED_HOST, else Host, else the server's name and port."""
        if self.forwarded_host and "HTTP_X_FORWARDED_HOST" in environ:
            return environ["HTTP_X_FORWARDED_HOST"]
        if "HTTP_HOST" in environ:
            return environ["HTTP_HOST"]
        host = environ["SERVER_NAME"]
        if self.forwarded_port and "HTTP_X_FORWARDED_PORT" in environ:
            port = environ["HTTP_X_FORWARDED_PORT"]
        else:
            port = str(environ["SERVER_PORT"])
        return host if port == ("443" if secure else "80") else f"{host}:{port}"

    def secure(self, environ: Mapping[str, Any]) -> bool:
        """request.is_secure(), as Django reads it: SECURE_PROXY_SSL_HEADER where the proxy
        sent it, else the WSGI server's scheme."""
        if self.proxy_ssl_header:
            header, secure_value = self.proxy_ssl_header
            value = environ.get(header)
            if value is not None:
                return value.split(",", 1)[0].strip() == secure_value
        return environ.get("wsgi.url_scheme") == "https"

    def headers_after(self, secure: bool, content_length: int) -> list[tuple[str, str]]:
        """The headers the middleware add to an answer of `content_length` bytes, in the order
        they add them (innermost first), X-Request-ID (the request log's) left out."""
        frame, rest = self.tails[secure]
        return [frame, ("Content-Length", str(content_length)), *rest]


def _tail(secure: bool) -> tuple[tuple[str, str], list[tuple[str, str]]]:
    """XFrameOptionsMiddleware's header, then (after CommonMiddleware's Content-Length) kernel's
    SecurityHeadersMiddleware's and Django's SecurityMiddleware's."""
    frame = ("X-Frame-Options", getattr(settings, "X_FRAME_OPTIONS", "DENY").upper())
    rest = [
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
        rest.append(("Strict-Transport-Security", sts))
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        rest.append(("X-Content-Type-Options", "nosniff"))
    policy = settings.SECURE_REFERRER_POLICY
    if policy:
        values = [v.strip() for v in policy.split(",")] if isinstance(policy, str) else policy
        rest.append(("Referrer-Policy", ",".join(values)))
    # SecurityMiddleware's Cross-Origin-Opener-Policy is a setdefault: the kernel's is there.
    return frame, rest


Config = TypeVar("Config", bound=LaneConfig)


class Configured(Generic[Config]):
    """A lane's configuration: `build()` on first use, and again after any setting changes
    (`configured()` returns it)."""

    def __init__(self, build: Callable[[], Config]) -> None:
        self._build = build
        self._value: Config | None = None
        setting_changed.connect(self._forget, weak=False)

    def __call__(self) -> Config:
        value = self._value
        if value is None:
            value = self._value = self._build()
        return value

    def _forget(self, **_: object) -> None:
        self._value = None
