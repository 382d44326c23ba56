"""The single sign-on settings page in German (issue 23): the provider's form, the domains with
their proof, the requirement and SCIM."""

import pytest
from django.urls import reverse

from activity.audit import SYSTEM
from sso import services
from tenants.tests.test_german import assert_german, german, text

pytestmark = pytest.mark.django_db


def test_the_sso_settings_page_is_german(client_for, alice, acme):
    claimed = services.domain_claim(tenant=acme, audit=SYSTEM, domain="acme.example")
    response = german(client_for(alice), reverse("sso:settings", kwargs={"code": "acme"}))
    assert response.status_code == 200
    assert_german(
        text(response),
        present=[
            "Single Sign-on",
            "Identitätsanbieter",
            "Weiterleitungs-URL kopieren",
            "Anbieter speichern",
            "E-Mail-Domains",
            "Noch nicht nachgewiesen.",
            f"Veröffentlichen Sie {claimed.txt_record} als TXT-Eintrag bei {claimed.txt_name}",
            "DNS prüfen",
            "Domain beanspruchen",
            "Mitglieder müssen sich mit SSO anmelden",
            "Notfall-Administratoren",
            "Provisionierung (SCIM 2.0)",
            "Noch kein Token: SCIM ist aus.",
            "Gruppen, die jemanden zum Administrator machen",
            "Kein Zugang",
        ],
        absent=[
            "Identity provider",
            "Copy the redirect URL",
            "Save provider",
            "E-mail domains",
            "Not proved yet",
            "Publish",
            "Check DNS",
            "Claim domain",
            "Members must sign in with SSO",
            "Break-glass admins",
            "Requirement",
            "Make a token",
            "No access",
            "Protocol",
        ],
    )


def test_the_sign_in_with_sso_page_is_german(client):
    response = german(client, reverse("sso:start"))
    assert_german(
        text(response),
        present=["Mit SSO anmelden", "Mandantencode oder geschäftliche E-Mail", "Weiter"],
        absent=["Sign in with SSO", "Tenant code or work e-mail", "Continue", "Log in with your password instead"],
    )
