import re
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import middleware as auth_middleware
from django.contrib.messages import middleware as messages_middleware
from django.contrib.sessions import middleware as sessions_middleware
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import timezone, translation

from kernel.dates import ZONE_COOKIE, valid_zone

# No inline scripts or styles anywhere, so the policy can be strict.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)

# The token service's public endpoints (oauth/urls.py) and the gateway check (gateway/urls.py):
# API clients and proxies call them, they authenticate clients themselves and never read a
# session, the signed-in user or messages. Every route under these prefixes must be a public
# token-service view (portal/tests/test_token_service_path.py). The management API (/api/)
# authenticates every call with a Bearer token the same way, and the operators' /metrics
# (kernel/metrics.py) lets in loopback clients and a bearer token, never a session.
TOKEN_SERVICE_PREFIXES = ("/oauth/", "/customerlogin/", "/.well-known/", "/gateway/", "/api/", "/metrics")
# Paths that answer machines, in English whatever the Accept-Language (docs/i18n.md): the token
# service, the gateway check, the management API, SCIM, the operators' endpoints, and the
# JavaScript catalog, whose URL names its language.
MACHINE_PREFIXES = (*TOKEN_SERVICE_PREFIXES, "/scim/", "/healthz", "/readyz", "/jsi18n/")
# Paths served by the lean Django handler (kernel/lanes.py): the token service and the gateway
# check, whose every view is public, CSRF-exempt and reads no session, user or message.
MACHINE_LANE_PREFIXES = ("/oauth/", "/customerlogin/", "/.well-known/", "/gateway/")


class SecurityHeadersMiddleware:
    """Adds the Content-Security-Policy and related headers to every response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response


class _PortalPagesOnly:
    """Skips the middleware it is mixed into for the token service's paths: per request it
    would load a session, a user and a message store that those endpoints never use."""

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(TOKEN_SERVICE_PREFIXES):
            return self.get_response(request)
        return super().__call__(request)


class SessionMiddleware(_PortalPagesOnly, sessions_middleware.SessionMiddleware):
    pass


class AuthenticationMiddleware(_PortalPagesOnly, auth_middleware.AuthenticationMiddleware):
    pass


class MessageMiddleware(_PortalPagesOnly, messages_middleware.MessageMiddleware):
    pass


class LoginRequiredMiddleware(auth_middleware.LoginRequiredMiddleware):
    """Django's, answering the same, but reading the view's login_not_required mark before the
    user: a public view (the token service) needs no session and user loaded to be let through.
    A view without the mark still needs a signed-in user, on every path."""

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        if not getattr(view_func, "login_required", True):
            return None
        if not hasattr(request, "user"):  # a token-service path, where nobody is signed in
            return self.handle_no_permission(request, view_func)
        return super().process_view(request, view_func, view_args, view_kwargs)


# A JSON media type without parameters: application/json, application/problem+json,
# application/jwk-set+json, application/vnd.oai.openapi+json.
_BARE_JSON = re.compile(r"^application/(?:[\w.+-]+\+)?json\s*$", re.IGNORECASE)


class JsonCharsetMiddleware:
    """Every JSON answer says its encoding: `; charset=utf-8` on a JSON media type that has no
    parameters, whoever made the response (Django's JsonResponse, REST framework, the error
    and outage pages' JSON), so that no client has to guess. Django and REST framework write
    JSON in UTF-8 (ASCII, a subset, for JsonResponse)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        content_type = response.get("Content-Type", "")
        if _BARE_JSON.match(content_type):
            response["Content-Type"] = f"{content_type.strip()}; charset=utf-8"
        return response


HTTPS_REQUIRED = "HTTPS is required"


class HttpsRequiredMiddleware:
    """With SECURE_SSL_REDIRECT on, a plain-HTTP request to a path of HTTPS_REQUIRED_PATHS (the
    token service, the management API, the gateway check) gets an error that says HTTPS is
    required, in the shape its clients read, instead of SecurityMiddleware's redirect (those
    paths are in SECURE_REDIRECT_EXEMPT): the credentials it carried have crossed in clear, and
    a client that followed a redirect would send them so again next time without noticing.
    `request.is_secure()` honours SECURE_PROXY_SSL_HEADER, as the redirect does."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.paths = [re.compile(pattern) for pattern in settings.HTTPS_REQUIRED_PATHS]

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.SECURE_SSL_REDIRECT and not request.is_secure():
            path = request.path_info.lstrip("/")
            if any(pattern.search(path) for pattern in self.paths):
                return self.refusal(path)
        return self.get_response(request)

    @staticmethod
    def refusal(path: str) -> HttpResponse:
        headers = {"Cache-Control": "no-store"}
        if path.startswith("api/"):  # the management API: an RFC 9457 problem (api/problems.py)
            body = {
                "type": "urn:api-key-portal:problem:https-required",
                "title": HTTPS_REQUIRED,
                "status": 403,
                "detail": "Call the API over HTTPS; credentials sent over plain HTTP are never accepted.",
            }
            return JsonResponse(body, status=403, content_type="application/problem+json", headers=headers)
        description = HTTPS_REQUIRED
        if path.startswith("gateway/"):
            # The gateway check's own refusal shape (gateway/views.py), and RFC 6750's challenge.
            headers["WWW-Authenticate"] = f'Bearer error="invalid_request", error_description="{description}"'
        else:  # the token service: RFC 6749 5.2
            headers["Pragma"] = "no-cache"
        body = {"error": "invalid_request", "error_description": description}
        return JsonResponse(body, status=400, headers=headers)


# C0 controls and DEL: no URL of the portal has them, and PostgreSQL refuses NUL in a query.
_CONTROL = {chr(code) for code in range(32)} | {"\x7f"}


class ControlCharacterPathMiddleware:
    """A path with a control character (NUL, CR, LF, ...) names nothing here: 404, before any
    view passes it to the database."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not _CONTROL.isdisjoint(request.path):
            if request.path.startswith("/api/"):  # the management API answers problem+json only
                return JsonResponse(
                    {
                        "type": "urn:api-key-portal:problem:not-found",
                        "title": "No such resource",
                        "status": 404,
                        "detail": "No API resource at this path.",
                    },
                    status=404,
                    content_type="application/problem+json",
                    headers={"Cache-Control": "no-store"},
                )
            raise Http404("No such page.")
        return self.get_response(request)


class TimeZoneMiddleware:
    """Shows every time (kernel.dates) in the user's time zone: their My Account setting, else
    the zone their browser reported in the `tz` cookie, else settings.TIME_ZONE. Not for the
    token service's paths, which show no times and load no user."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(TOKEN_SERVICE_PREFIXES):
            return self.get_response(request)
        user = getattr(request, "user", None)
        chosen = user.time_zone if user is not None and user.is_authenticated else ""
        zone = valid_zone(chosen) or valid_zone(request.COOKIES.get(ZONE_COOKIE))
        if zone is None:
            return self.get_response(request)
        with timezone.override(zone):
            return self.get_response(request)


class LanguageMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware (the language cookie set by the switch on the signed-out pages,
    else Accept-Language, else LANGUAGE_CODE; `Content-Language` and `Vary: Accept-Language` on
    the response), with the signed-in user's My Account setting first. Machine paths
    (MACHINE_PREFIXES) skip it entirely and stay English. After each page the thread goes back
    to LANGUAGE_CODE, so that the next request it serves, perhaps a machine one, starts in
    English (gunicorn's threads serve one request after another)."""

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(MACHINE_PREFIXES):
            return self.get_response(request)
        try:
            return super().__call__(request)
        finally:
            translation.deactivate()

    def process_request(self, request: HttpRequest) -> None:
        user = getattr(request, "user", None)
        chosen = getattr(user, "language", "") if user is not None and user.is_authenticated else ""
        if chosen and chosen in dict(settings.LANGUAGES):
            translation.activate(chosen)
            request.LANGUAGE_CODE = chosen
            return
        super().process_request(request)
