"""A person creates, edits and deletes a custom key in a real Chromium, and copies a Get
started snippet with the real secret in it."""

import pytest

from apikeys.models import ApiKey, KeyKind
from apikeys.services import secret_plaintext

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_creates_edits_and_deletes_a_custom_key(page_for, site, alice, acme):
    page = page_for(alice)
    page.goto(f"{site.url}/tenants/acme/api-keys/new/")
    page.get_by_label("Name").fill("Storefront sync")
    count = page.locator("[data-scope-count]")
    assert count.inner_text() == "0 scopes selected"

    # The search narrows the services; select-all ticks every Tax Service scope.
    page.get_by_label("Search scopes").fill("tax")
    assert page.locator("#service-tax").is_visible()
    assert not page.locator("#service-brand").is_visible()
    page.get_by_role("button", name="Select all Tax Service scopes").click()
    assert count.inner_text() == "2 scopes selected"
    page.get_by_label("Search scopes").fill("brand_manage")
    page.get_by_label("brand.brand_manage").check()
    assert count.inner_text() == "3 scopes selected"
    page.get_by_role("button", name="Generate key").click()
    page.wait_for_load_state()

    key = ApiKey.objects.get(tenant=acme, kind=KeyKind.CUSTOM)
    assert sorted(key.scopes.values_list("name", flat=True)) == ["brand.brand_manage", "tax.tax_manage", "tax.tax_read"]
    assert f"?created={key.public_id}" in page.url
    assert page.locator("#custom-keys").get_by_text("Storefront sync").first.is_visible()
    assert page.get_by_text("Custom API key “Storefront sync” created").is_visible()

    page.get_by_role("link", name="Edit Storefront sync").click()
    assert page.locator("[data-scope-count]").inner_text() == "3 scopes selected"
    page.get_by_label("Name").fill("Catalogue sync")
    page.get_by_role("button", name="Select none of the Tax Service scopes").click()
    assert page.locator("[data-scope-count]").inner_text() == "1 scope selected"
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_load_state()
    key.refresh_from_db()
    assert key.name == "Catalogue sync"
    assert list(key.scopes.values_list("name", flat=True)) == ["brand.brand_manage"]
    assert page.locator("#custom-keys").get_by_text("Catalogue sync").first.is_visible()

    page.get_by_role("link", name="Delete Catalogue sync").click()
    assert page.get_by_text(f"Apps using Client ID {key.client_id} stop working at once").is_visible()
    page.get_by_role("button", name="Delete Catalogue sync").click()
    page.wait_for_load_state()
    assert page.get_by_text("Key deleted").is_visible()
    assert not ApiKey.objects.filter(pk=key.pk).exists()


def test_copying_the_curl_snippet_puts_the_real_secret_on_the_clipboard(page_for, site, alice, acme_secrets):
    key, _ = acme_secrets[KeyKind.EMPORIX]
    plaintext = secret_plaintext(key.secrets.get(expires_at__isnull=True))
    page = page_for(alice)
    page.goto(f"{site.url}/tenants/acme/api-keys/{key.public_id}/get-started/")
    assert plaintext not in page.content()

    page.get_by_role("button", name="Copy the cURL (bash) snippet").click()
    page.locator("#snippet-curl [data-copy-status]").filter(has_text="Copied").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert f"client_secret={plaintext}" in copied
    assert f"client_id={key.client_id}" in copied
    assert "/oauth/token" in copied
    assert plaintext not in page.content()  # on the clipboard only, never in the page


def _try_it(page, site, key, done: str = "HTTP"):
    page.goto(f"{site.url}/tenants/acme/api-keys/{key.public_id}/get-started/")
    page.get_by_role("button", name="Try it").click()
    output = page.locator("[data-try-output]")
    output.filter(has_text=done).wait_for()
    return output.inner_text()


def test_try_it_says_so_when_the_request_fails(page_for, site, dave, acme_secrets):
    key, _ = acme_secrets[KeyKind.EMPORIX]
    page = page_for(dave)
    page.route("**/try/", lambda route: route.fulfill(status=502, body="Bad gateway", content_type="text/html"))
    text = _try_it(page, site, key, done="Try it failed")
    assert text == "Try it failed: The portal is not answering right now. Please try again in a moment."


def test_try_it_shows_the_token_response_in_place(page_for, site, dave, acme_secrets):
    key, plaintext = acme_secrets[KeyKind.EMPORIX]
    page = page_for(dave)
    text = _try_it(page, site, key)
    assert text.startswith("HTTP 200")
    assert '"access_token"' in text and '"token_type": "Bearer"' in text
    assert plaintext not in page.content()
