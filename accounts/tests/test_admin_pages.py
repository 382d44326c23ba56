"""The Django admin shows authenticators, sessions and known devices, never an authenticator
app's key, recovery codes or a session's key or data."""

import pytest
from allauth.usersessions.models import UserSession
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_admin_shows_second_factors_and_sessions_without_their_secrets(alice_with_totp, alice, django_user_model):
    _, secret, codes = alice_with_totp
    operator = django_user_model.objects.create_superuser(email="ops@example.com", password="x-long-password")
    admin_client = Client()
    admin_client.force_login(operator)
    session = UserSession.objects.filter(user=alice).first()
    pages = [
        reverse("admin:mfa_authenticator_changelist"),
        *(reverse("admin:mfa_authenticator_change", args=[a.pk]) for a in alice.authenticator_set.all()),
        reverse("admin:usersessions_usersession_changelist") + "?q=alice",
        reverse("admin:usersessions_usersession_change", args=[session.pk]),
        reverse("admin:accounts_knowndevice_changelist"),
    ]
    for page in pages:
        response = admin_client.get(page)
        assert response.status_code == 200, page
        body = response.content.decode()
        assert secret not in body and not any(code in body for code in codes)
        assert session.session_key not in body
    assert "alice@example.com" in admin_client.get(pages[0]).content.decode()
