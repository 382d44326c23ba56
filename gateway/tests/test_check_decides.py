"""The gateway check's answers, case by case, through /gateway/nginx (the other conventions
reach the same decision: test_each_proxy_convention.py)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apikeys.services import key_renew
from oauth.models import AccessToken

pytestmark = pytest.mark.django_db


def test_an_allowed_route_is_200_with_the_headers_for_the_upstream(check, mint, reader, acme):
    key, secret = reader
    answer = check("GET", "/customer/acme/customers?pageSize=10", mint(key, secret))
    assert answer.status_code == 200
    assert answer["X-Portal-Tenant"] == "acme"
    assert answer["X-Portal-Client-Id"] == key.client_id
    assert answer["X-Portal-Scopes"] == "customer.customer_read"
    assert answer["X-Portal-Token-Kind"] == "service"
    assert answer["X-Portal-Operation"] == "GET-customer-tenant-list-customers"
    assert answer["Cache-Control"] == "no-store"
    assert "WWW-Authenticate" not in answer


def test_the_emporix_key_opens_any_route_of_its_tenant(check, mint, emporix_key):
    key, secret = emporix_key
    answer = check("DELETE", "/customer/acme/customers/C1", mint(key, secret))
    assert answer.status_code == 200
    assert len(answer["X-Portal-Scopes"].split()) == 174


def test_no_token_is_401_with_a_bare_challenge(check):
    answer = check("GET", "/customer/acme/customers")
    assert answer.status_code == 401
    # RFC 6750 3.1: no error code when the request carried no token at all.
    assert answer["WWW-Authenticate"] == "Bearer"
    assert answer.json()["error"] == "invalid_token"


@pytest.mark.parametrize("token", ["akpt_" + "x" * 43, "not-a-portal-token", "a" * 300])
def test_an_unknown_token_is_401_invalid_token(check, token):
    answer = check("GET", "/customer/acme/customers", token)
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"].startswith('Bearer error="invalid_token", error_description="')


def test_an_expired_token_is_401(check, mint, reader):
    token = mint(*reader)
    AccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert check("GET", "/customer/acme/customers", token).status_code == 401


def test_a_revoked_token_is_401(check, mint, reader):
    token = mint(*reader)
    AccessToken.objects.update(revoked_at=timezone.now())
    answer = check("GET", "/customer/acme/customers", token)
    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer["WWW-Authenticate"]


def test_a_token_of_a_key_renewed_now_is_401(check, mint, reader):
    key, secret = reader
    token = mint(key, secret)
    key_renew(key=key)
    assert check("GET", "/customer/acme/customers", token).status_code == 401


def test_a_route_of_another_scope_is_403_insufficient_scope_naming_the_scopes(check, mint, reader):
    answer = check("POST", "/customer/acme/customers", mint(*reader))
    assert answer.status_code == 403
    assert answer["WWW-Authenticate"] == (
        'Bearer error="insufficient_scope", error_description="The access token holds none of the scopes this '
        'route accepts.", scope="customer.customer_manage customer.customer_manage_own"'
    )
    assert answer.json()["scope"] == "customer.customer_manage customer.customer_manage_own"
    assert "X-Portal-Tenant" not in answer


def test_another_tenants_path_is_403(check, mint, reader, globex):
    answer = check("GET", "/customer/globex/customers", mint(*reader))
    assert answer.status_code == 403
    assert 'error="insufficient_scope"' in answer["WWW-Authenticate"]
    assert "another tenant" in answer.json()["error_description"]


def test_the_tenant_must_match_exactly(check, mint, reader):
    token = mint(*reader)
    for path in ("/customer/ACME/customers", "/customer/acm%65/customers", "/customer/acme2/customers"):
        assert check("GET", path, token).status_code == 403, path


def test_a_route_without_scopes_needs_a_token_of_the_tenant_only(check, mint, reader):
    token = mint(*reader)
    assert check("GET", "/price/acme/prices", token).status_code == 200
    assert check("GET", "/price/globex/prices", token).status_code == 403
    assert check("GET", "/price/acme/prices").status_code == 401


def test_the_most_literal_route_decides(check, mint, reader):
    token = mint(*reader)
    # /iam/{tenant}/users/me takes any token of the tenant, /iam/{tenant}/users/{userId} needs iam.user_read.
    assert check("GET", "/iam/acme/users/me", token).status_code == 200
    assert check("GET", "/iam/acme/users/u-1", token).status_code == 403


def test_a_route_that_needs_no_token_passes_without_one_and_without_a_query(check, django_assert_num_queries):
    with django_assert_num_queries(0):
        answer = check("GET", "/category/acme/categories")
    assert answer.status_code == 200
    assert "X-Portal-Tenant" not in answer
    assert answer["X-Portal-Operation"] == "GET-category-tree-list-categories"


def test_head_is_matched_as_get(check, mint, reader):
    token = mint(*reader)
    assert check("HEAD", "/customer/acme/customers", token).status_code == 200
    # The table's one HEAD route is its own: the order scopes, which the reader lacks.
    assert check("HEAD", "/order-v2/acme/salesorders", token).status_code == 403


def test_the_method_decides_too(check, mint, reader):
    token = mint(*reader)
    assert check("get", "/customer/acme/customers", token).status_code == 200
    assert check("DELETE", "/customer/acme/customers/C1", token).status_code == 403


def test_an_unknown_route_is_404_by_default_without_a_query(check, mint, reader, django_assert_num_queries):
    token = mint(*reader)
    with django_assert_num_queries(0):
        answer = check("GET", "/my-own-api/things", token)
    assert answer.status_code == 404
    assert answer.json()["error"] == "unknown_route"
    assert check("GET", "/my-own-api/things").status_code == 404
    assert check("GET", "/customer/acme/customers", token).status_code == 200


def test_the_findings_probes_are_refused_by_default(check, mint, acme_secrets, globex):
    """Issue 18: tenant alpha's token got 200 for another tenant's unknown tax routes, and a
    storefront token with no tax scope for DELETE /tax/alpha/taxes."""
    emporix = mint(*acme_secrets["emporix"])  # every scope: only the path and tenant can refuse
    for method, path in [
        ("DELETE", "/tax/globex/taxes"),
        ("PATCH", "/tax/globex/taxes/DE"),
        ("GET", "/tax/globex/taxes.json"),
        ("DELETE", "/tax/acme/taxes"),
        ("GET", "/tax/acme/taxes.json"),
    ]:
        answer = check(method, path, emporix)
        assert answer.status_code == 404, (method, path)
        assert answer.json()["error"] == "unknown_route"
    storefront = mint(*acme_secrets["storefront"])
    assert check("DELETE", "/tax/acme/taxes", storefront).status_code == 404
    assert check("GET", "/tax/acme/taxes", storefront).status_code == 403


def test_a_known_path_with_a_method_the_table_does_not_list_is_404_even_under_a_passthrough_prefix(
    check, mint, emporix_key, settings
):
    settings.GATEWAY_PASSTHROUGH_PREFIXES = ("/",)
    token = mint(*emporix_key)
    # The table lists every method of the paths it knows: these are not routes of the API.
    assert check("PUT", "/customer/acme/customers", token).status_code == 404
    assert check("POST", "/customer/acme/customers/C1", token).status_code == 404
    assert check("DELETE", "/tax/acme/taxes", token).status_code == 404
    assert check("PATCH", "/tax/acme/taxes/DE", token).status_code == 404


SUFFIXES = [
    "/tax/acme/taxes.json",
    "/tax/acme/taxes.xml",
    "/tax/acme/Taxes.JSON",
    "/tax/acme/taxes.json;x=1",
    "/tax/acme/tax%65s.json",
    "/customer/acme/customers.csv",
    "/price/acme/prices.",
]


@pytest.mark.parametrize("passthrough", [(), ("/",), ("/tax", "/customer", "/price")])
@pytest.mark.parametrize("path", SUFFIXES)
def test_a_route_with_a_format_suffix_is_a_disguise_in_every_mode(
    check, mint, emporix_key, settings, path, passthrough
):
    settings.GATEWAY_PASSTHROUGH_PREFIXES = passthrough
    answer = check("GET", path, mint(*emporix_key))
    assert answer.status_code == 404, path
    assert "suffix" in answer.json()["error_description"]


def test_a_dot_in_a_parameter_is_the_parameter_checked_as_the_route(check, mint, reader, acme):
    token = mint(*reader)
    # /customer/{tenant}/customers/{customerNumber}: the route itself, with its tenant and scope checks.
    assert check("GET", "/customer/acme/customers/C1.json", token).status_code == 200
    assert check("GET", "/customer/globex/customers/C1.json", token).status_code == 403
    assert check("GET", "/customer/acme.json/customers", token).status_code == 403


def test_under_a_passthrough_prefix_an_unknown_route_needs_a_valid_token(check, mint, reader, settings):
    settings.GATEWAY_PASSTHROUGH_PREFIXES = ("/my-own-api",)
    token = mint(*reader)
    answer = check("GET", "/my-own-api/things?x=1", token)
    assert answer.status_code == 200
    assert answer["X-Portal-Tenant"] == "acme"
    assert "X-Portal-Operation" not in answer
    assert check("POST", "/my-own-api", token).status_code == 200
    assert check("GET", "/my-own-api/things").status_code == 401
    assert check("GET", "/my-own-api/things", "akpt_" + "x" * 43).status_code == 401
    # Whole segments only, exactly as written.
    assert check("GET", "/my-own-apix/things", token).status_code == 404
    assert check("GET", "/My-Own-Api/things", token).status_code == 404
    assert check("GET", "/other/things", token).status_code == 404


def test_under_a_passthrough_prefix_another_tenants_segment_is_403(check, mint, acme_secrets, settings):
    settings.GATEWAY_PASSTHROUGH_PREFIXES = ("/tax", "/sequential-id", "/reward-points")
    token = mint(*acme_secrets["emporix"])
    for path in ("/tax/globex/rates", "/tax/globex/taxes/DE/history", "/tax/ACME/rates", "/tax/globex"):
        answer = check("GET", path, token)
        assert answer.status_code == 403, path
        assert "another tenant" in answer.json()["error_description"]
    assert check("GET", "/tax/acme/rates", token).status_code == 200
    assert check("GET", "/tax/acme", token).status_code == 200
    # An upstream that ignores case or decodes would read these as tax paths of globex.
    settings.GATEWAY_PASSTHROUGH_PREFIXES = ("/",)
    for path in ("/TAX/globex/rates", "/t%61x/globex/rates", "/tax;v=1/globex/rates", "/TAX/%61cme/rates"):
        assert check("GET", path, token).status_code == 403, path
    assert check("GET", "/TAX/acme/rates", token).status_code == 200
    settings.GATEWAY_PASSTHROUGH_PREFIXES = ("/tax", "/sequential-id", "/reward-points")
    # /sequential-id/sequenceSchemaBatch/nextIds is a route without a tenant: that place is not one there.
    assert check("GET", "/sequential-id/sequenceSchemaBatch/other", token).status_code == 200
    assert check("GET", "/sequential-id/globex/other", token).status_code == 403
    assert check("GET", "/reward-points/public/other", token).status_code == 200
    assert check("GET", "/reward-points/globex/other", token).status_code == 403


def test_a_passthrough_prefix_for_every_path_keeps_the_tenant_check(check, mint, reader, settings):
    settings.GATEWAY_PASSTHROUGH_PREFIXES = ("/",)
    token = mint(*reader)
    assert check("GET", "/my-own-api/things", token).status_code == 200
    assert check("GET", "/customer/acme/new-endpoint", token).status_code == 200
    assert check("GET", "/customer/globex/new-endpoint", token).status_code == 403
    # The table's own routes keep their scope checks.
    assert check("POST", "/customer/acme/customers", token).status_code == 403


TRICKS = [
    "/customer/acme/customers/../../../price/acme/prices",
    "/customer/acme/customers/C1/..",
    "/customer/acme/customers/./C1",
    "/customer/acme/customers/%2e%2e/%2E%2E/x",
    "/customer/acme/customers%2FC1",
    "/customer/acme%2fcustomers",
    "/customer/acme/customers%5cC1",
    "/customer\\acme\\customers",
    "/customer/acme/customers/",
    "/customer//acme/customers",
    "//customer/acme/customers",
    "/Customer/acme/customers",
    "/CUSTOMER/ACME/CUSTOMERS",
    "/customer/acme/Customers/C1",
    "/cust%6fmer/acme/customers",
    "/customer/acme/customers;jsessionid=1",
    "/customer/acme/customers%3B",
    "customer/acme/customers",
    "http://api.example.com/customer/acme/customers",
]


@pytest.mark.parametrize("passthrough", [(), ("/",)])
@pytest.mark.parametrize("path", TRICKS)
def test_paths_that_only_look_like_a_route_are_404_in_every_mode(check, mint, emporix_key, settings, path, passthrough):
    settings.GATEWAY_PASSTHROUGH_PREFIXES = passthrough
    # The Emporix key holds every scope: only the path can make the check refuse.
    token = mint(*emporix_key)
    for method in ("GET", "DELETE"):  # the route's own method, and one the path has no route for
        answer = check(method, path, token)
        assert answer.status_code == 404, (method, path)
        assert answer.json()["error"] == "unknown_route"


def test_a_broken_authorization_header_is_400(check):
    answer = check("GET", "/customer/acme/customers", HTTP_AUTHORIZATION="Bearer two words")
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"
    # RFC 6750 3.1: the challenge too, which nginx and Traefik pass on to the client.
    assert answer["WWW-Authenticate"].startswith('Bearer error="invalid_request"')


def test_another_scheme_counts_as_no_token(check):
    answer = check("GET", "/customer/acme/customers", HTTP_AUTHORIZATION="Basic YTpi")
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"] == "Bearer"


def test_without_the_original_method_and_uri_it_is_400(client):
    assert client.get("/gateway/nginx").status_code == 400
    assert client.get("/gateway/nginx", HTTP_X_ORIGINAL_URI="/customer/acme/customers").status_code == 400


def test_the_check_reads_no_session_and_sets_no_cookie(check, mint, reader, client, alice):
    client.force_login(alice)
    token = mint(*reader)
    answer = check("GET", "/customer/acme/customers", token)
    assert answer.status_code == 200
    assert not answer.cookies
    assert not hasattr(answer.wsgi_request, "user")
    assert not hasattr(answer.wsgi_request, "session")


def test_refusals_are_not_logged_as_warnings(check, caplog):
    with caplog.at_level("INFO"):
        assert check("GET", "/customer/acme/customers").status_code == 401
    assert [record.name for record in caplog.records] == ["portal.request"]
