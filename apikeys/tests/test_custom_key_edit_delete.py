import pytest
from django.urls import reverse

from activity.audit import Audit
from activity.models import Action, ActivityEntry
from apikeys.models import ApiKey, ApiSecret, KeyKind
from apikeys.services import key_create
from scopes.models import Scope

pytestmark = pytest.mark.django_db
LIST_URL = reverse("apikeys:list", kwargs={"code": "acme"})


@pytest.fixture
def custom_key(acme, alice):
    key, _ = key_create(
        tenant=acme,
        kind=KeyKind.CUSTOM,
        name="Shop",
        scopes=Scope.objects.filter(name__in=["brand.brand_manage", "tax.tax_read"]),
        audit=Audit(actor=alice),
    )
    return key


def edit_url(key, code="acme"):
    return reverse("apikeys:edit", kwargs={"code": code, "key_id": key.public_id})


def delete_url(key, code="acme"):
    return reverse("apikeys:delete", kwargs={"code": code, "key_id": key.public_id})


def test_the_edit_form_is_prefilled_and_explains_the_effect(client_for, alice, custom_key):
    response = client_for(alice).get(edit_url(custom_key))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'value="Shop"' in body
    assert 'value="tax.tax_read" id="scope-tax.tax_read" checked' in body
    assert 'value="brand.brand_manage" id="scope-brand.brand_manage" checked' in body
    assert "2 scopes selected" in body
    assert "Save changes" in body
    assert "stop being" in body and "granted to new access tokens" in body


def test_saving_records_the_changes_and_returns_to_the_list(client_for, alice, custom_key):
    response = client_for(alice).post(
        edit_url(custom_key), {"name": "Shop 2", "scopes": ["tax.tax_read", "country.country_read"]}
    )
    assert response.status_code == 302
    assert response.url == LIST_URL + "#key-notice"  # the "saved" notice, next to the key
    custom_key.refresh_from_db()
    assert custom_key.name == "Shop 2"
    assert sorted(custom_key.scopes.values_list("name", flat=True)) == ["country.country_read", "tax.tax_read"]
    entry = ActivityEntry.objects.get(action=Action.KEY_CHANGED, key=custom_key)
    assert entry.details == {
        "name": {"from": "Shop", "to": "Shop 2"},
        "scopes_added": ["country.country_read"],
        "scopes_removed": ["brand.brand_manage"],
    }
    assert entry.actor == alice


def test_keeping_the_name_is_not_a_clash_with_itself(client_for, alice, custom_key):
    response = client_for(alice).post(edit_url(custom_key), {"name": "Shop", "scopes": ["tax.tax_read"]})
    assert response.status_code == 302


def test_a_name_taken_by_another_key_is_a_field_error(client_for, alice, acme, custom_key):
    key_create(tenant=acme, kind=KeyKind.CUSTOM, name="Other", scopes=Scope.objects.filter(name="tax.tax_read"))
    response = client_for(alice).post(edit_url(custom_key), {"name": "Other", "scopes": ["tax.tax_read"]})
    assert response.status_code == 400
    assert "already has a key named “Other”" in response.content.decode()
    custom_key.refresh_from_db()
    assert custom_key.name == "Shop"


def test_removing_every_scope_is_a_field_error_that_changes_nothing(client_for, alice, custom_key):
    response = client_for(alice).post(edit_url(custom_key), {"name": "Renamed"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Choose at least one scope." in body and 'value="Renamed"' in body
    custom_key.refresh_from_db()
    assert custom_key.name == "Shop" and custom_key.scopes.count() == 2


def test_a_key_may_keep_a_deprecated_scope_it_holds(client_for, alice, custom_key):
    Scope.objects.filter(name="brand.brand_manage").update(deprecated=True)
    response = client_for(alice).post(
        edit_url(custom_key), {"name": "Shop", "scopes": ["brand.brand_manage", "tax.tax_read"]}
    )
    assert response.status_code == 302


@pytest.mark.parametrize("kind", [KeyKind.EMPORIX, KeyKind.STOREFRONT])
def test_builtin_keys_cannot_be_edited_or_deleted(client_for, alice, acme, kind):
    key = ApiKey.objects.get(tenant=acme, kind=kind)
    client = client_for(alice)
    assert client.get(edit_url(key)).status_code == 404
    assert client.post(edit_url(key), {"name": "Mine", "scopes": ["tax.tax_read"]}).status_code == 404
    assert client.get(delete_url(key)).status_code == 404
    assert client.post(delete_url(key)).status_code == 404
    key.refresh_from_db()
    assert key.name == kind.label


def test_delete_asks_for_confirmation_first(client_for, alice, custom_key):
    response = client_for(alice).get(delete_url(custom_key))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Delete Shop?" in body
    assert f"Apps using Client ID <code>{custom_key.client_id}</code> stop working at once" in body
    assert ApiKey.objects.filter(pk=custom_key.pk).exists()


def test_delete_removes_the_key_and_its_secrets_and_records_it(client_for, alice, custom_key):
    response = client_for(alice).post(delete_url(custom_key), follow=True)
    assert response.redirect_chain == [(LIST_URL, 302)]
    assert "Key deleted" in response.content.decode()
    assert not ApiKey.objects.filter(pk=custom_key.pk).exists()
    assert not ApiSecret.objects.filter(key_id=custom_key.pk).exists()
    entry = ActivityEntry.objects.get(action=Action.KEY_DELETED)
    assert entry.key_client_id == custom_key.client_id and entry.key_name == "Shop"


# Roles and non-members: portal/tests/test_permissions.py.
def test_it_404s_for_another_tenants_key_under_my_tenant_code(client_for, charlie, globex, alice, custom_key):
    # charlie, admin of globex, names acme's key under globex's code.
    client = client_for(charlie)
    assert client.get(edit_url(custom_key, code="globex")).status_code == 404
    assert client.post(delete_url(custom_key, code="globex")).status_code == 404
    assert ApiKey.objects.filter(pk=custom_key.pk).exists()
