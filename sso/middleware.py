"""python3-saml, through allauth's SAML views, reads the Host header straight from the request's
environment: a request without one (HTTP/1.0, or a client that leaves it out) raised KeyError, a
500. Before those views, a missing Host is filled in with Django's own host (the server's name,
checked against ALLOWED_HOSTS like any Host: one that is not allowed is the usual 400)."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

SAML_PREFIX = "/accounts/saml/"


class SamlHostMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "HTTP_HOST" not in request.META and request.path_info.startswith(SAML_PREFIX):
            request.META["HTTP_HOST"] = request.get_host()
        return self.get_response(request)
