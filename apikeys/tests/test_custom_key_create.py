import pytest
from django.db import IntegrityError
from django.urls import reverse

from activity.models import Action, ActivityEntry
from apikeys.models import ApiKey, ApiSecret, KeyKind
from apikeys.services import key_create
from scopes.models import Scope, Service

pytestmark = pytest.mark.django_db
URL = reverse("apikeys:create", kwargs={"code": "acme"})


def post(client, name="Shop frontend", scopes=("brand.brand_manage", "tax.tax_read")):
    return client.post(URL, {"name": name, "scopes": list(scopes)})


@pytest.fixture
def deprecated_scope(db):
    # The catalogue lists its deprecated names apart from the services; one kept in the
    # database (because a key held it) looks like this.
    service = Service.objects.get(key="product")
    return Scope.objects.create(
        service=service, name="product.product_create", deprecated=True, replaced_by="product.product_manage"
    )


def test_the_form_offers_scopes_grouped_by_service_with_descriptions(client_for, alice, acme, deprecated_scope):
    response = client_for(alice).get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="scopes" value="brand.brand_manage"' in body
    assert "Brand Service" in body and "Tax Service" in body
    assert "data-scope-filter" in body and 'data-select="all"' in body
    assert "0 scopes selected" in body
    assert "product.product_create" not in body  # deprecated, not offered
    assert "Manage brands" in body or Scope.objects.get(name="brand.brand_manage").description in body


def test_generate_creates_the_key_with_its_scopes_secret_and_activity_entry(client_for, alice, acme):
    response = post(client_for(alice), name="  Shop frontend  ")
    key = ApiKey.objects.get(tenant=acme, kind=KeyKind.CUSTOM)
    assert key.name == "Shop frontend"
    assert sorted(key.scopes.values_list("name", flat=True)) == ["brand.brand_manage", "tax.tax_read"]
    assert ApiSecret.objects.filter(key=key, expires_at__isnull=True).count() == 1
    entry = ActivityEntry.objects.get(tenant=acme, action=Action.KEY_CREATED, key=key)
    assert entry.actor == alice
    assert entry.details["scopes"] == ["brand.brand_manage", "tax.tax_read"]
    assert response.status_code == 302
    assert response.url == (reverse("apikeys:list", kwargs={"code": "acme"}) + f"?created={key.public_id}#key-notice")


def test_it_says_the_key_was_created(client_for, alice, acme):
    response = client_for(alice).post(URL, {"name": "<b>Shop</b>", "scopes": ["tax.tax_read"]}, follow=True)
    body = response.content.decode()
    assert "Custom API key “&lt;b&gt;Shop&lt;/b&gt;” created" in body
    assert "<b>Shop</b>" not in body


def assert_form_error(response, message):
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ApiKey.objects.filter(kind=KeyKind.CUSTOM).exists()


def test_an_empty_name_is_a_field_error(client_for, alice, acme):
    assert_form_error(post(client_for(alice), name="   "), "This field is required.")


def test_a_name_longer_than_64_characters_is_a_field_error(client_for, alice, acme):
    assert_form_error(post(client_for(alice), name="x" * 65), "at most 64 characters")


def test_a_name_of_64_characters_is_fine(client_for, alice, acme):
    assert post(client_for(alice), name="x" * 64).status_code == 302


def test_a_duplicate_name_is_a_field_error(client_for, alice, acme):
    client = client_for(alice)
    assert post(client, name="Shop").status_code == 302
    response = post(client, name="Shop")
    assert response.status_code == 400
    assert "already has a key named “Shop”" in response.content.decode()
    assert ApiKey.objects.filter(kind=KeyKind.CUSTOM).count() == 1


@pytest.mark.parametrize("name", ["Emporix API", "storefront api"])
def test_the_builtin_names_are_reserved(client_for, alice, acme, name):
    assert_form_error(post(client_for(alice), name=name), "is reserved for a built-in key")


def test_the_same_name_in_another_tenant_is_fine(client_for, alice, acme, globex):
    key_create(tenant=globex, kind=KeyKind.CUSTOM, name="Shop", scopes=Scope.objects.filter(name="tax.tax_read"))
    assert post(client_for(alice), name="Shop").status_code == 302


def test_no_scope_is_a_field_error(client_for, alice, acme):
    assert_form_error(post(client_for(alice), scopes=()), "Choose at least one scope.")


def test_an_unknown_scope_is_a_field_error_naming_it(client_for, alice, acme):
    response = post(client_for(alice), scopes=["tax.tax_read", "product.product_read"])
    assert_form_error(response, "“product.product_read” is not a scope in the catalogue.")


def test_a_deprecated_scope_is_a_field_error(client_for, alice, acme, deprecated_scope):
    response = post(client_for(alice), scopes=["product.product_create"])
    assert_form_error(response, "“product.product_create” is deprecated and can no longer be chosen.")
    assert "Use product.product_manage instead." in response.content.decode()


def test_everything_typed_and_checked_is_kept_after_an_error(client_for, alice, acme):
    response = post(client_for(alice), name="Kept name", scopes=["tax.tax_read", "brand.brand_manage", "nope.nope"])
    body = response.content.decode()
    assert response.status_code == 400
    assert 'value="Kept name"' in body
    assert 'value="tax.tax_read" id="scope-tax.tax_read" checked' in body
    assert 'value="brand.brand_manage" id="scope-brand.brand_manage" checked' in body
    assert 'value="tax.tax_manage" id="scope-tax.tax_manage">' in body
    assert "2 scopes selected" in body  # the unknown name is an error, not a choice


def test_a_name_race_lost_at_the_database_is_a_field_error(client_for, alice, acme, monkeypatch):
    def lose_the_race(**kwargs):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr("apikeys.services.key_create", lose_the_race)
    response = post(client_for(alice))
    assert response.status_code == 400
    assert "already has a key with this name" in response.content.decode()


def test_an_empty_post_shows_the_required_errors(client_for, alice, acme):
    response = client_for(alice).post(URL)
    body = response.content.decode()
    assert response.status_code == 400
    assert "This field is required." in body and "Choose at least one scope." in body


def test_after_creating_among_many_keys_the_message_and_copy_button_are_next_to_it(client_for, alice, acme):
    for n in range(30):
        ApiKey.objects.create(tenant=acme, kind="custom", name=f"Aaa {n:02}", client_id=f"{n:032d}")
    client = client_for(alice)
    response = post(client, name="Zzz newest")
    key = ApiKey.objects.get(tenant=acme, name="Zzz newest")
    body = client.get(response.url).content.decode()
    # First in the table (sorted by name it would be on page 2), the notice in the next row.
    row = body[body.index('<tbody class="pinned">') :]
    row = row[: row.index("</tbody>")]
    assert f'<tr id="key-{key.public_id}" class="is-new">' in row
    notice = row[row.index('<tr class="notice-row">') :]
    assert "Custom API key “Zzz newest” created." in notice and "Copy the new secret now" in notice
    assert reverse("apikeys:secret", kwargs={"code": "acme", "key_id": key.public_id}) in notice
    # The new secret is shown this once, in the key's row, on a page that is not stored.
    assert body.count("akps_") == 1 and row.count('class="secret is-shown"') == 1
    again = client.get(response.url).content.decode()
    assert "akps_" not in again and "Copy the new secret now" not in again
