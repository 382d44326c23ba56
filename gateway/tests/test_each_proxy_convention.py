"""Each proxy's way of passing the original request, and nothing else: a header meant for
another proxy is never read, since nginx and Traefik forward the client's own headers to the
check."""

import pytest

pytestmark = pytest.mark.django_db

ALLOWED = "/customer/acme/customers"
REFUSED = "/customer/acme/customers/C1"  # DELETE needs customer.customer_manage


@pytest.fixture
def token(mint, reader):
    return mint(*reader)


# (endpoint, the META prefix of its own headers, that of the other convention's)
HEADER_CONVENTIONS = [
    ("/gateway/nginx", "HTTP_X_ORIGINAL", "HTTP_X_FORWARDED"),
    ("/gateway/traefik", "HTTP_X_FORWARDED", "HTTP_X_ORIGINAL"),
]


@pytest.mark.parametrize(("endpoint", "own", "other"), HEADER_CONVENTIONS)
def test_nginx_and_traefik_read_their_own_method_and_uri_headers(client, token, endpoint, own, other):
    def ask(method, uri, headers=own, **extra):
        return client.get(
            endpoint,
            HTTP_AUTHORIZATION=f"Bearer {token}",
            **{f"{headers}_METHOD": method, f"{headers}_URI": uri},
            **extra,
        ).status_code

    assert ask("GET", ALLOWED) == 200
    assert ask("DELETE", REFUSED) == 403
    # The other proxy's headers, added by the client, change nothing, and alone are not enough.
    assert ask("DELETE", REFUSED, **{f"{other}_METHOD": "GET", f"{other}_URI": ALLOWED}) == 403
    assert ask("GET", ALLOWED, headers=other) == 400


def envoy(client, method: str, original: str, token: str | None = None, **extra):
    """What Envoy's HTTP ext_authz sends: the original method, path_prefix + the original path
    (and query). RAW_URI is what gunicorn adds: the target as sent, percent-encoding kept."""
    target = "/gateway/envoy" + original
    if token is not None:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.generic(method, target, RAW_URI=target, **extra)


def test_envoy_appends_the_original_path_and_keeps_the_method(client, token):
    answer = envoy(client, "GET", ALLOWED + "?pageSize=5", token)
    assert answer.status_code == 200
    assert answer["X-Portal-Tenant"] == "acme"
    assert envoy(client, "DELETE", REFUSED, token).status_code == 403
    assert envoy(client, "POST", "/customer/acme/customers", token).status_code == 403
    assert envoy(client, "GET", ALLOWED).status_code == 401
    # Another proxy's headers change nothing.
    assert envoy(client, "DELETE", REFUSED, token, HTTP_X_ORIGINAL_METHOD="GET").status_code == 403


def test_envoy_matches_the_raw_path_not_the_decoded_one(client, token):
    # Decoded, /customer/acme%2Fcustomers is the allowed route; as sent it is no route at all.
    assert envoy(client, "GET", "/customer/acme%2Fcustomers", token).status_code == 404
    assert envoy(client, "GET", "/customer/acme/customers/%2e%2e", token).status_code == 404
    assert envoy(client, "GET", "/customer/acme/customers/", token).status_code == 404


def test_envoy_needs_a_server_that_passes_the_raw_uri(client, token):
    answer = client.get("/gateway/envoy" + ALLOWED, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert answer.status_code == 400
    assert "RAW_URI" in answer.json()["error_description"]


@pytest.mark.parametrize("path", ["/gateway/nginx", "/gateway/traefik", "/gateway/envoy/customer/acme/customers"])
def test_every_convention_answers_any_method_without_csrf(client, token, path):
    headers = {
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "HTTP_X_ORIGINAL_METHOD": "GET",
        "HTTP_X_ORIGINAL_URI": ALLOWED,
        "HTTP_X_FORWARDED_METHOD": "GET",
        "HTTP_X_FORWARDED_URI": ALLOWED,
        "RAW_URI": path,
    }
    client.handler.enforce_csrf_checks = True
    # nginx and Traefik send the original method in a header (GET here), Envoy as its own; the
    # table has GET and POST (customer.customer_manage) on this path, nothing else: other
    # methods are no route of the API.
    envoy_expects = {"GET": 200, "POST": 403, "PUT": 404, "PATCH": 404, "DELETE": 404}
    for method, envoy_status in envoy_expects.items():
        answer = client.generic(method, path, **headers)
        expected = envoy_status if path.startswith("/gateway/envoy") else 200
        assert answer.status_code == expected, (method, path)
