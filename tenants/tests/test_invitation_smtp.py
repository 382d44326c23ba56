"""The invitation through a real SMTP server (aiosmtpd, started by the test on a free port) and
Django's SMTP backend: what arrives is a mail naming the tenant, whose link lets the person in."""

import re

import pytest
from django.urls import reverse

from accounts.models import User
from tenants.models import Membership, Role

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-new-pass-2026"


def test_the_invitation_arrives_over_smtp_and_its_link_works(smtp_server, client, client_for, alice, acme):
    response = client_for(alice).post(
        reverse("tenants:member_add", kwargs={"code": "acme"}), {"email": "new@example.com", "role": "developer"}
    )
    assert response.status_code == 302
    (message,) = smtp_server.messages
    assert message["X-Envelope-To"] == "new@example.com" and message["To"] == "new@example.com"
    assert message["From"] == "API Key Portal <portal@localhost>"
    assert message["Subject"] == "Invitation to Acme Corp (acme) on the API Key Portal"
    body = message.get_body(("plain",)).get_content()  # and an HTML part made from it
    assert message.get_body(("html",)) is not None
    assert "invites you to the tenant Acme Corp (acme)" in body and "as Developer" in body
    path, token = re.search(r"http://testserver(/invitations/accept/\?token=(\S+))", body).groups()

    client.logout()
    assert "Join Acme Corp" in client.get(path).content.decode()
    client.post(
        reverse("tenants:invitation_accept"), {"token": token, "new_password1": PASSWORD, "new_password2": PASSWORD}
    )
    user = User.objects.get(email="new@example.com")
    assert Membership.objects.get(user=user, tenant=acme).role == Role.DEVELOPER


def test_a_resend_arrives_with_a_new_link(smtp_server, client_for, alice, acme):
    client = client_for(alice)
    client.post(reverse("tenants:member_add", kwargs={"code": "acme"}), {"email": "new@example.com", "role": "viewer"})
    invitation = acme.invitations.get()
    client.post(reverse("tenants:invitation_resend", kwargs={"code": "acme", "invitation_id": invitation.public_id}))
    first, second = (
        re.search(r"token=(\S+)", m.get_body(("plain",)).get_content()).group(1) for m in smtp_server.messages
    )
    assert first != second
