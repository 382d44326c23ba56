"""Issue 18: with SECURE_SSL_REDIRECT on, plain-HTTP calls to the token service, the management
API and the gateway check got a 301: the credentials had crossed in clear already, and a client
following the redirect hid the mistake. They now get an answer saying HTTPS is required, in
the shape each one's clients read, never a redirect; pages keep redirecting."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

TOKEN_FORM = "grant_type=client_credentials&client_id=x&client_secret=y"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def https_only(settings):
    settings.SECURE_SSL_REDIRECT = True


def token_service_calls(client: Client, **extra):
    return {
        "/oauth/token": client.post("/oauth/token", TOKEN_FORM, content_type=FORM, **extra),
        "/oauth/introspect": client.post("/oauth/introspect", "token=x", content_type=FORM, **extra),
        "/oauth/revoke": client.post("/oauth/revoke", "token=x", content_type=FORM, **extra),
        "/oauth/tokeninfo": client.get("/oauth/tokeninfo", HTTP_AUTHORIZATION="Bearer akpt_x", **extra),
        "/customerlogin/auth/anonymous/login": client.get(
            "/customerlogin/auth/anonymous/login?tenant=acme&client_id=x", **extra
        ),
        "/customerlogin/auth/anonymous/refresh": client.get(
            "/customerlogin/auth/anonymous/refresh?tenant=acme&client_id=x&refresh_token=akpr_x", **extra
        ),
    }


def test_the_token_service_says_https_is_required_as_rfc_6749_does(client, https_only):
    for path, answer in token_service_calls(client).items():
        assert answer.status_code == 400, path
        assert "Location" not in answer, path
        assert answer.json() == {"error": "invalid_request", "error_description": "HTTPS is required"}, path
        assert answer["Content-Type"].startswith("application/json")
        assert answer["Cache-Control"] == "no-store" and answer["Pragma"] == "no-cache"


def test_the_management_api_answers_a_problem(client, https_only):
    for method, path in [("get", "/api/v1/keys/"), ("post", "/api/v1/invitations/"), ("get", "/api/v1/nothing")]:
        answer = getattr(client, method)(path, HTTP_AUTHORIZATION="Bearer akpt_x")
        assert answer.status_code == 403, path
        assert "Location" not in answer
        assert answer["Content-Type"].startswith("application/problem+json")
        problem = answer.json()
        assert problem["type"] == "urn:api-key-portal:problem:https-required"
        assert problem["status"] == 403 and problem["title"] == "HTTPS is required"


def test_the_gateway_check_refuses_with_a_bearer_challenge(client, https_only):
    for path in ("/gateway/nginx", "/gateway/traefik", "/gateway/envoy/customer/acme/customers"):
        answer = client.get(
            path,
            HTTP_AUTHORIZATION="Bearer akpt_x",
            HTTP_X_ORIGINAL_METHOD="GET",
            HTTP_X_ORIGINAL_URI="/customer/acme/customers",
        )
        assert answer.status_code == 400, path
        assert "Location" not in answer
        assert answer.json()["error"] == "invalid_request"
        assert answer["WWW-Authenticate"] == 'Bearer error="invalid_request", error_description="HTTPS is required"'


@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/tenants/", "/.well-known/oauth-authorization-server", "/api/v1/docs/"]
)
def test_pages_and_public_documents_keep_redirecting(client, https_only, path):
    answer = client.get(path + "?x=1")
    assert answer.status_code == 301
    assert answer["Location"] == f"https://testserver{path}?x=1"


def test_health_probes_answer_over_plain_http(client, https_only):
    assert client.get("/healthz").status_code == 200


def test_over_https_the_calls_are_served(client, https_only, acme_secrets):
    key, secret = acme_secrets["emporix"]
    form = f"grant_type=client_credentials&client_id={key.client_id}&client_secret={secret}"
    answer = client.post("/oauth/token", form, content_type=FORM, secure=True)
    assert answer.status_code == 200
    assert client.get("/api/v1/keys/", secure=True).status_code == 401  # no token: the API's own answer


def test_behind_a_proxy_its_forwarded_scheme_decides(client, https_only, settings, acme_secrets):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    key, secret = acme_secrets["emporix"]
    form = f"grant_type=client_credentials&client_id={key.client_id}&client_secret={secret}"
    assert client.post("/oauth/token", form, content_type=FORM, HTTP_X_FORWARDED_PROTO="https").status_code == 200
    refused = client.post("/oauth/token", form, content_type=FORM, HTTP_X_FORWARDED_PROTO="http")
    assert refused.status_code == 400 and refused.json()["error_description"] == "HTTPS is required"


def test_without_secure_ssl_redirect_plain_http_is_served(client, settings):
    # `make run` serves plain HTTP on loopback.
    settings.SECURE_SSL_REDIRECT = False
    for path, answer in token_service_calls(client).items():
        assert answer.json().get("error_description") != "HTTPS is required", path
