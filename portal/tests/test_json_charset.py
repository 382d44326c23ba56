"""Issue 18 (info): JSON answers carried no charset. Every JSON answer of the portal, whoever
makes it (the token service, the gateway check, the management API and its problems, health,
the pages' fetch() endpoints, the refusals of middleware), says `charset=utf-8`
(kernel.middleware.JsonCharsetMiddleware). The walk below asks each kind once."""

import re
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from api.tests.conftest import token_for
from apikeys.models import KeyKind
from apikeys.services import key_create
from scopes.models import Scope

pytestmark = pytest.mark.django_db

JSON_WITH_CHARSET = re.compile(r"^application/(?:[\w.+-]+\+)?json; charset=utf-8$")
FORM = "application/x-www-form-urlencoded"


def walk(client, client_for, alice, acme, acme_secrets, settings) -> dict[str, object]:
    """(what was asked -> response) for one request of every kind that answers JSON."""
    key, secret = acme_secrets["emporix"]
    storefront = acme_secrets["storefront"][0]
    credentials = {"client_id": key.client_id, "client_secret": secret}
    answers = {}
    token_answer = client.post("/oauth/token", urlencode({"grant_type": "client_credentials", **credentials}), FORM)
    answers["token"] = token_answer
    access = token_answer.json()["access_token"]
    answers["token error"] = client.post("/oauth/token", "grant_type=client_credentials", FORM)
    answers["introspect"] = client.post("/oauth/introspect", urlencode({"token": access, **credentials}), FORM)
    answers["revoke"] = client.post("/oauth/revoke", urlencode({"token": "x", **credentials}), FORM)
    answers["tokeninfo"] = client.get("/oauth/tokeninfo", HTTP_AUTHORIZATION=f"Bearer {access}")
    answers["tokeninfo 401"] = client.get("/oauth/tokeninfo")
    answers["metadata"] = client.get("/.well-known/oauth-authorization-server")
    answers["jwks"] = client.get("/.well-known/jwks.json")
    answers["anonymous login"] = client.get(
        f"/customerlogin/auth/anonymous/login?tenant=acme&client_id={storefront.client_id}"
    )
    gateway = {"HTTP_X_ORIGINAL_METHOD": "GET", "HTTP_X_ORIGINAL_URI": "/customer/acme/customers"}
    answers["gateway 401"] = client.get("/gateway/nginx", **gateway)
    answers["gateway 404"] = client.get("/gateway/nginx", HTTP_X_ORIGINAL_METHOD="GET", HTTP_X_ORIGINAL_URI="/nope")
    manager, manager_secret = key_create(
        tenant=acme,
        kind=KeyKind.CUSTOM,
        name="Manager",
        scopes=Scope.objects.filter(name__in=["portal.key_read", "portal.member_read"]),
    )
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token_for(client, manager, manager_secret)}"}
    answers["api list"] = client.get("/api/v1/keys/", **bearer)
    answers["api members"] = client.get("/api/v1/members/", **bearer)
    answers["api problem 401"] = client.get("/api/v1/keys/")
    answers["api problem 404"] = client.get("/api/v1/nothing/", **bearer)
    answers["api problem 400"] = client.get("/api/v1/keys/?limit=0", **bearer)
    answers["api control characters"] = client.get("/api/v1/keys/%01/", **bearer)
    answers["api schema"] = client.get("/api/v1/schema/")
    answers["healthz"] = client.get("/healthz")
    answers["readyz"] = client.get("/readyz")
    web = client_for(alice)
    answers["reauth status"] = web.get(reverse("reauth_status"))
    secret_url = reverse("apikeys:secret", kwargs={"code": "acme", "key_id": key.public_id})
    answers["secret"] = web.post(secret_url, HTTP_ACCEPT="application/json")
    answers["secret 400"] = web.post(secret_url, {"purpose": "steal"}, HTTP_ACCEPT="application/json")
    settings.SECURE_SSL_REDIRECT = True
    answers["https required"] = client.post("/oauth/token", "grant_type=client_credentials", FORM)
    answers["https required problem"] = client.get("/api/v1/keys/")
    settings.SECURE_SSL_REDIRECT = False
    return answers


def test_every_json_answer_says_utf_8(client, client_for, alice, acme, acme_secrets, settings):
    answers = walk(client, client_for, alice, acme, acme_secrets, settings)
    for name, answer in answers.items():
        content_type = answer["Content-Type"]
        assert JSON_WITH_CHARSET.match(content_type), (name, answer.status_code, content_type)
        assert answer.content.decode("utf-8")  # and it is UTF-8
    kinds = {answer["Content-Type"].split(";")[0] for answer in answers.values()}
    # The walk met each JSON media type the portal answers with.
    assert {
        "application/json",
        "application/problem+json",
        "application/jwk-set+json",
        "application/vnd.oai.openapi+json",
    } <= kinds
    statuses = {answer.status_code for answer in answers.values()}
    assert {200, 400, 401, 403, 404} <= statuses


def test_pages_and_other_types_are_left_as_they_are(client, client_for, alice, acme):
    assert client_for(alice).get(reverse("tenants:list"))["Content-Type"] == "text/html; charset=utf-8"
    export = client_for(alice).get(reverse("activity:csv", kwargs={"code": "acme"}))
    assert export["Content-Type"] == "text/csv; charset=utf-8"


def test_a_json_type_with_a_charset_already_is_not_given_a_second():
    from django.http import HttpResponse

    from kernel.middleware import JsonCharsetMiddleware

    for given in ("application/json; charset=utf-8", "application/json;charset=UTF-8"):
        answer = JsonCharsetMiddleware(lambda request, given=given: HttpResponse("{}", content_type=given))(None)
        assert answer["Content-Type"] == given
