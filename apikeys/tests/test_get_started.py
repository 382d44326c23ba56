import html
import re

import pytest
from django.urls import reverse

from apikeys.display import SECRET_MASK
from apikeys.models import KeyKind
from apikeys.samples import build_samples
from apikeys.services import key_create
from scopes.models import Scope
from scopes.routes import route_table

pytestmark = pytest.mark.django_db
ORIGIN = "http://testserver"


def url(key, code="acme"):
    return reverse("apikeys:get_started", kwargs={"code": code, "key_id": key.public_id})


def page(client, key) -> str:
    response = client.get(url(key))
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def custom(acme, *scope_names):
    key, plaintext = key_create(
        tenant=acme, kind=KeyKind.CUSTOM, name="Custom", scopes=Scope.objects.filter(name__in=scope_names)
    )
    return key, plaintext


def test_the_emporix_api_key_gets_a_token_then_asks_for_token_info(client_for, alice, acme_secrets):
    key, plaintext = acme_secrets[KeyKind.EMPORIX]
    body = page(client_for(alice), key)
    assert f"{ORIGIN}/oauth/token" in body
    assert "grant_type=client_credentials" in body
    assert f"client_id={key.client_id}" in body
    assert f"client_secret={SECRET_MASK}" in body
    assert body.count(f"{ORIGIN}/oauth/tokeninfo") == 4  # the key's fields, then every sample
    assert "Authorization: Bearer" in body
    for title in ("cURL (bash)", "Python (standard library)", "JavaScript (Node.js 18+)"):
        assert title in body
    assert plaintext not in body and "akps_" not in body


def test_the_samples_need_no_tool_they_do_not_name(acme_secrets):
    for kind in (KeyKind.EMPORIX, KeyKind.STOREFRONT):
        key, _ = acme_secrets[kind]
        curl, python, javascript = (snippet.code for snippet in build_samples(key, base_url=ORIGIN).snippets)
        # jq is named once, to say it is not needed (a Client ID may hold the letters "jq").
        assert re.findall(r"\bjq\b", curl) == ["jq"] and "bash with curl" in curl and "sed -n" in curl
        imported = {line.split()[1] for line in python.splitlines() if line.startswith(("import ", "from "))}
        assert imported == {"json", "urllib.error", "urllib.parse", "urllib.request"}
        assert "standard library only" in python
        assert "require(" not in javascript and "import " not in javascript and "Node.js 18" in javascript


def test_the_storefront_key_logs_in_anonymously_then_asks_for_token_info(client_for, alice, acme_secrets):
    key, plaintext = acme_secrets[KeyKind.STOREFRONT]
    body = page(client_for(alice), key)
    assert f"{ORIGIN}/customerlogin/auth/anonymous/login?tenant=acme&client_id={key.client_id}" in body
    assert f"{ORIGIN}/oauth/tokeninfo" in body
    assert "/oauth/token'" not in body and '/oauth/token"' not in body
    assert SECRET_MASK not in body
    assert "data-with-secret" not in body  # nothing to fetch: copied as shown
    assert plaintext not in body
    # What is true: the anonymous login needs the Client ID only; the secret has its own use.
    assert "needs no secret" not in body
    assert "The anonymous login needs only the Client ID" in body
    assert "secret is for the client-credentials grant" in body


def test_without_api_base_url_no_sample_calls_another_api(client_for, alice, acme, settings):
    settings.API_BASE_URL = ""
    key, _ = custom(acme, "tax.tax_read")
    body = page(client_for(alice), key)
    assert "# 3." not in body and "Call your API" not in body
    assert "/tax/acme/taxes" not in body


@pytest.mark.parametrize(
    ("scopes", "allowed", "opener"),
    [
        (["tax.tax_read"], "/tax/acme/taxes", "tax.tax_read"),
        (["brand.brand_manage", "tax.tax_read"], "/tax/acme/taxes", "tax.tax_read"),  # brand has no plain read
        (["customer.customer_read"], "/customer/acme/customers", "customer.customer_read"),
    ],
)
def test_with_api_base_url_a_custom_key_calls_a_route_its_scopes_open(
    client_for, alice, acme, settings, scopes, allowed, opener
):
    settings.API_BASE_URL = "https://api.example.com"
    key, _ = custom(acme, *scopes)
    body = page(client_for(alice), key)
    assert f"{ORIGIN}/oauth/token" in body and f"{ORIGIN}/oauth/tokeninfo" in body  # the portal, still
    assert f"https://api.example.com{allowed}" in body
    assert body.count(f"(opened by {opener})") == 3
    assert body.count("Refused for this key: GET https://api.example.com/") == 3
    route = route_table().match("GET", allowed).route
    assert route.opened_by(frozenset(scopes))
    refused = body.split("Refused for this key: GET https://api.example.com", 1)[1].split(":", 1)[0]
    assert not route_table().match("GET", refused).route.opened_by(frozenset(scopes))


def test_with_api_base_url_the_emporix_key_is_refused_only_another_tenants_path(
    client_for, alice, acme_secrets, settings
):
    settings.API_BASE_URL = "https://api.example.com"
    key, _ = acme_secrets[KeyKind.EMPORIX]
    body = page(client_for(alice), key)
    assert "/another-tenant/" in body and "the tenant in a path must be the token's (acme)" in body


def test_admins_and_developers_get_secret_copy_and_try_it(client_for, dave, acme_secrets):
    key, plaintext = acme_secrets[KeyKind.EMPORIX]
    body = page(client_for(dave), key)
    secret_url = reverse("apikeys:secret", kwargs={"code": "acme", "key_id": key.public_id})
    assert f'data-secret-url="{secret_url}"' in body
    assert body.count("data-with-secret") == 3
    assert reverse("oauth:try", kwargs={"code": "acme", "key_id": key.public_id}) in body
    assert "aria-live" in body
    assert plaintext not in body


def test_viewers_see_the_snippets_but_cannot_fetch_the_secret_or_try_it(client_for, bob, acme_secrets):
    key, plaintext = acme_secrets[KeyKind.EMPORIX]
    body = page(client_for(bob), key)
    assert key.client_id in body and SECRET_MASK in body
    assert "data-secret-url" not in body and "data-with-secret" not in body
    assert "/try/" not in body
    assert plaintext not in body


def test_the_page_has_no_inline_script(client_for, alice, acme_secrets):
    key, _ = acme_secrets[KeyKind.EMPORIX]
    body = page(client_for(alice), key)
    assert "<script>" not in body and " on" + "click=" not in body
    assert "js/get-started.js" in body


def test_it_404s_for_another_tenants_key_under_my_tenant_code(client_for, charlie, globex, acme_secrets):
    key, _ = acme_secrets[KeyKind.EMPORIX]
    assert client_for(charlie).get(url(key, code="globex")).status_code == 404
