"""The token service's paths skip sessions, authentication and messages (kernel/middleware.py),
and nothing else: every route there is a public token-service view, a view without the
login_not_required mark still needs a signed-in user, and the security headers are all set."""

import pytest
from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver, path

from kernel.middleware import TOKEN_SERVICE_PREFIXES
from portal import urls as portal_urls


def _private(request):
    return HttpResponse("private")


# A portal page put, by mistake, under a token-service path.
urlpatterns = [path("oauth/private", _private), *portal_urls.urlpatterns]


def _routes(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield "/" + prefix + str(entry.pattern), entry.callback


def test_every_route_under_the_token_service_prefixes_is_a_public_token_endpoint():
    routes = [(route, view) for route, view in _routes(get_resolver().url_patterns)]
    token_routes = [(route, view) for route, view in routes if route.startswith(TOKEN_SERVICE_PREFIXES)]
    assert {route for route, _ in token_routes} >= {"/oauth/token", "/.well-known/oauth-authorization-server"}
    for route, view in token_routes:
        assert view.login_required is False, route
        assert view.csrf_exempt is True, route


@pytest.mark.django_db
def test_token_endpoints_keep_every_security_header(client):
    response = client.post(
        "/oauth/token",
        "grant_type=client_credentials",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION="Basic bm8tc3VjaC1jbGllbnQ6d3Jvbmc=",
    )
    assert response.status_code == 401
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Cache-Control"] == "no-store"
    assert "sessionid" not in response.cookies


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_view_without_the_mark_needs_a_login_even_under_a_token_service_path(client, alice):
    response = client.get("/oauth/private")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    client.force_login(alice)
    assert client.get("/oauth/private").status_code == 302  # no session is read there: still nobody


@pytest.mark.django_db
def test_portal_pages_still_need_a_login(client, alice):
    assert client.get("/tenants/").status_code == 302
    client.force_login(alice)
    assert client.get("/tenants/").status_code == 200
