import html

import pytest
from django.urls import reverse

from apikeys.display import SECRET_MASK
from apikeys.models import KeyKind
from apikeys.services import key_create
from scopes.models import Scope

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


def test_the_emporix_api_key_gets_a_token_then_lists_products(client_for, alice, acme_secrets):
    key, plaintext = acme_secrets[KeyKind.EMPORIX]
    body = page(client_for(alice), key)
    assert f"{ORIGIN}/oauth/token" in body
    assert "grant_type=client_credentials" in body
    assert f"client_id={key.client_id}" in body
    assert f"client_secret={SECRET_MASK}" in body
    assert f"{ORIGIN}/product/acme/products" in body
    assert "Authorization: Bearer" in body
    for title in ("cURL", "Python (requests)", "JavaScript (fetch)"):
        assert title in body
    assert plaintext not in body and "akps_" not in body


def test_the_storefront_key_logs_in_anonymously_then_lists_products(client_for, alice, acme_secrets):
    key, plaintext = acme_secrets[KeyKind.STOREFRONT]
    body = page(client_for(alice), key)
    assert f"{ORIGIN}/customerlogin/auth/anonymous/login?tenant=acme&client_id={key.client_id}" in body
    assert f"{ORIGIN}/product/acme/products" in body
    assert "/oauth/token" not in body
    assert SECRET_MASK not in body
    assert "data-with-secret" not in body  # nothing to fetch: copied as shown
    assert plaintext not in body


@pytest.mark.parametrize(
    ("scopes", "path"),
    [
        (["brand.brand_manage", "tax.tax_read"], "/brand/brands"),
        (["tax.tax_read"], "/tax/acme/taxes"),
    ],
)
def test_a_custom_key_calls_a_sample_of_its_first_service(client_for, alice, acme, scopes, path):
    key, plaintext = custom(acme, *scopes)
    body = page(client_for(alice), key)
    assert f"{ORIGIN}/oauth/token" in body and f"client_id={key.client_id}" in body
    assert f"{ORIGIN}{path}" in body
    assert plaintext not in body


def test_a_custom_key_without_a_sample_falls_back_to_products_with_a_note(client_for, alice, acme):
    key, _ = custom(acme, "webhook.subscription_read")
    body = page(client_for(alice), key)
    assert f"{ORIGIN}/product/acme/products" in body
    assert "the key's scopes decide which calls work" in body


def test_api_base_url_comes_from_settings_when_set(client_for, alice, acme_secrets, settings):
    settings.API_BASE_URL = "https://api.emporix.io"
    key, _ = acme_secrets[KeyKind.EMPORIX]
    body = page(client_for(alice), key)
    assert "https://api.emporix.io/oauth/token" in body
    assert "https://api.emporix.io/product/acme/products" in body
    assert ORIGIN not in body


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
