from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse

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


# C0 controls and DEL: no URL of the portal has them, and PostgreSQL refuses NUL in a query.
_CONTROL = {chr(code) for code in range(32)} | {"\x7f"}


class ControlCharacterPathMiddleware:
    """A path with a control character (NUL, CR, LF, ...) names nothing here: 404, before any
    view passes it to the database."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not _CONTROL.isdisjoint(request.path):
            raise Http404("No such page.")
        return self.get_response(request)
