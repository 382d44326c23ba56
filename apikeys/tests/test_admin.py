import pytest
from django.urls import reverse

from apikeys.models import ApiSecret

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(django_user_model):
    return django_user_model.objects.create_superuser(email="ops@example.com", password="x-long-password")


def test_the_admin_shows_keys_but_never_a_secret_or_ciphertext(client, operator, acme_secrets):
    client.force_login(operator)
    key, plaintext = acme_secrets["emporix"]
    secret = ApiSecret.objects.get(key=key)
    pages = [
        reverse("admin:apikeys_apikey_changelist"),
        reverse("admin:apikeys_apikey_change", args=[key.pk]),
        reverse("admin:tenants_tenant_change", args=[key.tenant.pk]),
        reverse("admin:activity_activityentry_changelist"),
        reverse("admin:scopes_scope_changelist"),
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        body = response.content.decode()
        assert plaintext not in body
        assert bytes(secret.ciphertext).hex() not in body
        assert bytes(secret.digest).hex() not in body
        assert "ciphertext" not in body.lower()
    assert key.client_id in client.get(pages[1]).content.decode()


def test_secrets_have_no_admin_page_of_their_own(client, operator):
    from django.contrib import admin

    assert ApiSecret not in admin.site._registry


def test_keys_are_read_only_in_the_admin_so_nothing_bypasses_the_services(client, operator, acme_secrets):
    from apikeys.models import ApiKey

    client.force_login(operator)
    key, _ = acme_secrets["emporix"]
    change = reverse("admin:apikeys_apikey_change", args=[key.pk])
    client.post(change, {"name": "Renamed"})
    assert ApiKey.objects.get(pk=key.pk).name == "Emporix API"
    assert client.post(reverse("admin:apikeys_apikey_delete", args=[key.pk]), {"post": "yes"}).status_code == 403
    assert ApiKey.objects.filter(pk=key.pk).exists()


def test_scopes_cannot_be_deleted_in_the_admin(client, operator):
    from scopes.models import Scope

    client.force_login(operator)
    scope = Scope.objects.get(name="tax.tax_read")
    assert client.post(reverse("admin:scopes_scope_delete", args=[scope.pk]), {"post": "yes"}).status_code == 403
    assert Scope.objects.filter(pk=scope.pk).exists()


def test_the_admin_cannot_take_a_tenants_last_admin_away(client, operator, acme, alice):
    from tenants.models import Membership

    client.force_login(operator)
    membership = Membership.objects.get(tenant=acme, user=alice)
    client.post(reverse("admin:tenants_membership_change", args=[membership.pk]), {"role": "viewer"})
    assert (
        client.post(reverse("admin:tenants_membership_delete", args=[membership.pk]), {"post": "yes"}).status_code
        == 403
    )
    membership.refresh_from_db()
    assert membership.role == "admin"
