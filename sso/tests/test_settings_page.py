"""The tenant admins' SSO page: the provider's settings with the secret sealed at rest, the
redirect URL to copy, the requirement and its break-glass admins, all recorded."""

import pytest
from django.core.management import call_command

from activity.models import Action, ActivityEntry
from kernel import crypto
from sso import services
from sso.models import Connection
from tenants.models import Membership

PAGE = "/tenants/acme/sso/"
FORM = {
    "is_enabled": "on",
    "issuer_url": "https://login.example.com/realms/acme/",
    "client_id": "portal",
    "client_secret": "provider-secret-value",
    "scopes": "openid email profile groups",
    "email_claim": "email",
    "groups_claim": "groups",
    "admin_groups": "portal-admins\nplatform",
    "developer_groups": "portal-developers",
    "viewer_groups": "",
    "default_role": "viewer",
    "mfa_policy": "provider",
    "mfa_acr_values": "",
}

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(client_for, alice, acme):
    return client_for(alice)


def test_the_page_shows_the_redirect_url_to_copy(admin, django_assert_max_num_queries):
    # 13: the SCIM token's is the last added.
    with django_assert_max_num_queries(13):
        response = admin.get(PAGE)
    page = response.content.decode()
    assert response.status_code == 200
    assert "http://testserver/accounts/oidc/sso-acme/login/callback/" in page
    assert 'data-copy-text="http://testserver/accounts/oidc/sso-acme/login/callback/"' in page


def test_saving_the_provider_seals_the_secret_and_records_no_value(admin, acme):
    response = admin.post("/tenants/acme/sso/provider/", FORM)
    assert response.status_code == 302
    connection = Connection.objects.get(tenant=acme)
    assert connection.issuer_url == "https://login.example.com/realms/acme"
    assert connection.admin_groups == ["portal-admins", "platform"]
    assert b"provider-secret-value" not in bytes(connection.secret_ciphertext)
    assert services.connection_secret(connection) == "provider-secret-value"
    # Bound to its row: the ciphertext opens for no other binding.
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(connection.secret_ciphertext, key_id=connection.secret_key_id, binding="sso:999")
    entry = ActivityEntry.objects.get(action=Action.SSO_CONFIGURED)
    assert "provider-secret-value" not in str(entry.details)
    assert entry.details["client_id"] == "portal"
    assert "provider-secret-value" not in admin.get(PAGE).content.decode()


def test_a_change_without_a_secret_keeps_it_and_records_what_changed(admin, acme):
    admin.post("/tenants/acme/sso/provider/", FORM)
    admin.post("/tenants/acme/sso/provider/", {**FORM, "client_secret": "", "default_role": ""})
    connection = Connection.objects.get(tenant=acme)
    assert services.connection_secret(connection) == "provider-secret-value"
    assert connection.default_role == ""
    entry = ActivityEntry.objects.get(action=Action.SSO_CHANGED)
    assert entry.details == {"default_role": {"from": "viewer", "to": ""}}
    admin.post("/tenants/acme/sso/provider/", {**FORM, "client_secret": "new-secret", "default_role": ""})
    assert services.connection_secret(Connection.objects.get(tenant=acme)) == "new-secret"
    assert ActivityEntry.objects.filter(action=Action.SSO_CHANGED).first().details == {"client_secret": "replaced"}


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"issuer_url": "http://login.example.com"}, "Use an https:// URL."),
        ({"issuer_url": "not a url"}, "Enter a valid URL."),
        ({"scopes": "email profile"}, "Include the openid scope."),
        ({"client_secret": ""}, "Enter the client secret the provider gave you."),
        ({"mfa_policy": "nonsense"}, "Select a valid choice."),
        ({"default_role": "owner"}, "Select a valid choice."),
        ({"issuer_url": "https://10.0.0.5/realms/acme"}, "The portal does not reach this host"),
        ({"issuer_url": "https://[::1]:8443"}, "The portal does not reach this host"),
        ({"issuer_url": "https://169.254.169.254/latest"}, "The portal does not reach this host"),
    ],
)
def test_bad_settings_are_form_errors(admin, acme, settings, changes, error):
    settings.SSO_ALLOW_LOOPBACK = False
    response = admin.post("/tenants/acme/sso/provider/", {**FORM, **changes})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not Connection.objects.exists()


def test_the_requirement_needs_a_provider_and_keeps_the_admin_in(admin, acme, alice):
    response = admin.post("/tenants/acme/sso/enforcement/", {"required": "on"})
    assert response.status_code == 400
    assert "Set up and turn on the identity provider first." in response.content.decode()
    admin.post("/tenants/acme/sso/provider/", FORM)
    response = admin.post("/tenants/acme/sso/enforcement/", {"required": "on"})
    assert response.status_code == 400
    assert "keep yourself as a break-glass admin" in response.content.decode()
    response = admin.post("/tenants/acme/sso/enforcement/", {"required": "on", "exempt": [str(alice.pk)]})
    assert response.status_code == 302
    acme.refresh_from_db()
    assert acme.sso_required
    assert Membership.objects.get(tenant=acme, user=alice).sso_exempt
    assert admin.get("/tenants/acme/api-keys/").status_code == 200


def test_only_admins_can_be_break_glass(admin, acme, bob):
    admin.post("/tenants/acme/sso/provider/", FORM)
    response = admin.post("/tenants/acme/sso/enforcement/", {"exempt": [str(bob.pk)]})
    assert response.status_code == 400
    assert not Membership.objects.get(tenant=acme, user=bob).sso_exempt


def test_reencrypt_secrets_moves_the_client_secret(admin, acme, settings):
    admin.post("/tenants/acme/sso/provider/", FORM)
    old_key = Connection.objects.get(tenant=acme).secret_key_id
    settings.PORTAL_ENCRYPTION_KEYS = (
        f"{crypto.generate_encryption_key_entry('newer')},{settings.PORTAL_ENCRYPTION_KEYS}"
    )
    call_command("reencrypt_secrets")
    connection = Connection.objects.get(tenant=acme)
    assert connection.secret_key_id == "newer" != old_key
    assert services.connection_secret(connection) == "provider-secret-value"
