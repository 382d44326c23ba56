"""oauth.resource.bearer_required on views of a test-only URLconf, as an operator would use it:
any-of scopes, request.bearer, and the RFC 6750 answers (403 insufficient_scope with the
scopes that would do)."""

import pytest
from django.http import HttpResponse, JsonResponse
from django.urls import path

from oauth.resource import bearer_required
from portal import urls as portal_urls


@bearer_required("tax.tax_read", "tax.tax_manage")
def taxes(request, tenant):
    return JsonResponse({"tenant": request.bearer.tenant_code, "asked": tenant, "client_id": request.bearer.client_id})


@bearer_required()
def anything(request):
    return JsonResponse({"scopes": len(request.bearer.scopes)})


@bearer_required("brand.brand_manage")
def cached(request):
    response = HttpResponse("ok")
    response["Cache-Control"] = "private, max-age=60"
    return response


# Outside the token service's prefixes on purpose: the decorator alone must let API clients in
# (no login redirect, no CSRF check) on any path.
urlpatterns = [
    path("api/<str:tenant>/taxes", taxes),
    path("api/anything", anything),
    path("api/cached", cached),
    *portal_urls.urlpatterns,  # the token service, to get tokens
]

pytestmark = pytest.mark.urls(__name__)


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_a_token_with_one_of_the_scopes_gets_in(client, issue, emporix):
    key, secret = emporix
    for scope in ("tax.tax_read", "tax.tax_manage"):
        response = client.get("/api/acme/taxes", **bearer(issue(key, secret, scope=scope)))
        assert response.status_code == 200
        assert response.json() == {"tenant": "acme", "asked": "acme", "client_id": key.client_id}
        assert response["Cache-Control"] == "no-store"


def test_a_token_without_them_is_403_insufficient_scope(client, issue, emporix):
    token = issue(*emporix, scope="brand.brand_manage")
    response = client.get("/api/acme/taxes", **bearer(token))
    assert response.status_code == 403
    assert response["WWW-Authenticate"] == (
        'Bearer realm="API Key Portal", error="insufficient_scope", '
        'error_description="The access token holds none of the scopes this resource needs.", '
        'scope="tax.tax_read tax.tax_manage"'
    )
    assert response.json()["error"] == "insufficient_scope"
    assert response.json()["scope"] == "tax.tax_read tax.tax_manage"
    assert response["Cache-Control"] == "no-store"


def test_no_scope_named_means_any_valid_token(client, issue, emporix):
    response = client.get("/api/anything", **bearer(issue(*emporix, scope="brand.brand_manage")))
    assert response.status_code == 200 and response.json() == {"scopes": 1}


def test_refusals_before_the_scope_check(client, db):
    assert client.get("/api/anything").status_code == 401
    assert client.get("/api/anything").get("Location") is None  # not the login page
    assert client.get("/api/anything", HTTP_AUTHORIZATION="Bearer a b").status_code == 400
    response = client.get("/api/acme/taxes", **bearer("akpt_" + "x" * 43))
    assert response.status_code == 401 and 'error="invalid_token"' in response["WWW-Authenticate"]


def test_post_needs_no_csrf_token(db, issue, emporix):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post("/api/anything", **bearer(issue(*emporix)))
    assert response.status_code == 200


def test_the_views_own_cache_control_is_kept(client, issue, emporix):
    response = client.get("/api/cached", **bearer(issue(*emporix, scope="brand.brand_manage")))
    assert response.status_code == 200 and response["Cache-Control"] == "private, max-age=60"
