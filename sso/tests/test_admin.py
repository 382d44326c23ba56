"""The Django admin: operators see tenants' SSO connections without the client secret, and
confirm a claimed domain (an operator's proof)."""

import pytest
from django.test import Client
from django.urls import reverse

from activity.audit import SYSTEM
from activity.models import Action, ActivityEntry
from sso import services
from sso.models import ClaimedDomain

pytestmark = pytest.mark.django_db

SETTINGS = {
    "is_enabled": True,
    "issuer_url": "https://login.example.com",
    "client_id": "portal",
    "scopes": "openid email",
    "email_claim": "email",
    "groups_claim": "groups",
    "admin_groups": [],
    "developer_groups": [],
    "viewer_groups": [],
    "default_role": "viewer",
    "mfa_policy": "portal",
    "mfa_acr_values": [],
}


@pytest.fixture
def operator(django_user_model):
    client = Client()
    client.force_login(django_user_model.objects.create_superuser(email="ops@example.com", password="x-long-password"))
    return client


def test_the_connection_is_shown_without_its_secret(operator, acme):
    connection = services.connection_save(tenant=acme, audit=SYSTEM, settings=SETTINGS, secret="provider-secret-value")
    for url in (
        reverse("admin:sso_connection_changelist"),
        reverse("admin:sso_connection_change", args=[connection.pk]),
    ):
        response = operator.get(url)
        assert response.status_code == 200
        assert "provider-secret-value" not in response.content.decode()


def test_the_operator_confirms_a_domain_in_the_admin(operator, acme):
    claimed = services.domain_claim(tenant=acme, audit=SYSTEM, domain="example.com")
    response = operator.post(
        reverse("admin:sso_claimeddomain_changelist"), {"action": "confirm", "_selected_action": [claimed.pk]}
    )
    assert response.status_code == 302
    claimed.refresh_from_db()
    assert claimed.verified_by == ClaimedDomain.Proof.OPERATOR
    assert ActivityEntry.objects.filter(action=Action.SSO_DOMAIN_VERIFIED).exists()
