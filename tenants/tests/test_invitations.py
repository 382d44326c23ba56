"""Invitations: an admin invites an address with a role, the person accepts through the mailed
link, whether or not they have an account; nothing an admin sees tells which."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from activity.models import Action, ActivityEntry
from conftest import PASSWORD, free_port
from kernel import crypto
from tenants.models import Invitation, Membership, Role
from tenants.services import invitation_send

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-new-pass-2026"
ACCEPT = reverse("tenants:invitation_accept")
LINK = re.compile(r"http://testserver(/invitations/accept/\?token=(akpi_[\w-]+))")


def url(name, **kwargs):
    return reverse(f"tenants:{name}", kwargs={"code": "acme", **kwargs})


def invite(client, email, role="developer"):
    return client.post(url("member_add"), {"email": email, "role": role})


def link_in(message):
    """(the accept page's path with its token, the token) from an invitation mail."""
    return LINK.search(message.body).groups()


def invited(client_for, alice, email, role="developer"):
    """alice invites `email`; the link of the mail."""
    invite(client_for(alice), email, role)
    path, _ = link_in(mail.outbox[-1])
    client_for(alice).logout()
    return path


# --- Inviting -------------------------------------------------------------------------------


def test_inviting_a_new_and_an_existing_address_looks_the_same(client_for, alice, charlie, acme):
    """charlie has an account; nobody has one for new@example.com. The admin gets the same
    answer, message, mail and number of queries for both, and nobody is added yet."""
    client = client_for(alice)
    answers = []
    for email in ("new@example.com", "charlie@example.com"):
        with CaptureQueriesContext(connection) as queries:
            response = invite(client, email)
        page = client.get(response.url)
        shown = [str(m) for m in page.context["messages"]]
        answers.append(
            (
                response.status_code,
                response.url,
                sorted(response.headers),
                len(queries),
                [text.replace(email, "ADDRESS") for text in shown],
                mail.outbox[-1].subject,
                LINK.sub("LINK", mail.outbox[-1].body.replace(email, "ADDRESS")),
            )
        )
    assert answers[0] == answers[1]
    assert answers[0][:2] == (302, url("members")) and answers[0][4] == ["Invitation sent to ADDRESS."]
    assert not User.objects.filter(email="new@example.com").exists()
    assert not Membership.objects.filter(tenant=acme, user=charlie).exists()
    assert list(Invitation.objects.values_list("email", "role", "invited_by")) == [
        ("charlie@example.com", "developer", alice.pk),
        ("new@example.com", "developer", alice.pk),
    ]
    assert [e.details for e in ActivityEntry.objects.filter(action=Action.INVITATION_SENT).order_by("id")] == [
        {"member": "new@example.com", "role": "developer"},
        {"member": "charlie@example.com", "role": "developer"},
    ]


def test_the_mail_names_the_tenant_and_holds_a_link_whose_token_is_stored_only_as_a_digest(client_for, alice, acme):
    invite(client_for(alice), "New@Example.com", role="viewer")
    (message,) = mail.outbox
    assert message.to == ["new@example.com"]
    assert message.subject == "Invitation to Acme Corp (acme) on the API Key Portal"
    assert (
        "alice@example.com invites you to the tenant Acme Corp (acme) on the API Key Portal, as Viewer" in message.body
    )
    _, token = link_in(message)
    invitation = Invitation.objects.get()
    assert bytes(invitation.token_digest) == crypto.digest(token)
    assert token not in str(Invitation.objects.values().get())
    assert invitation.expires_at - invitation.sent_at == timedelta(days=7)


def test_the_lifetime_is_a_setting(client_for, alice, acme, settings):
    settings.INVITATION_LIFETIME_DAYS = 2
    invite(client_for(alice), "new@example.com")
    invitation = Invitation.objects.get()
    assert invitation.expires_at - invitation.sent_at == timedelta(days=2)


def test_inviting_an_address_invited_already_says_so(client_for, alice, acme):
    client = client_for(alice)
    invite(client, "new@example.com")
    response = invite(client, "NEW@example.com", role="admin")
    assert response.status_code == 400
    assert "has been invited already" in response.content.decode()
    assert len(mail.outbox) == 1 and Invitation.objects.get().role == Role.DEVELOPER


def test_an_expired_invitation_is_replaced_by_a_new_one(client_for, alice, acme):
    client = client_for(alice)
    invite(client, "new@example.com")
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert invite(client, "new@example.com", role="admin").status_code == 302
    invitation = Invitation.objects.get()
    assert invitation.role == Role.ADMIN and not invitation.is_expired


def test_a_mail_that_cannot_be_sent_changes_nothing(client_for, alice, acme, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing listens there
    response = invite(client_for(alice), "new@example.com")
    assert response.status_code == 503
    assert "could not be sent" in response.content.decode()
    assert not Invitation.objects.exists() and not ActivityEntry.objects.filter(action=Action.INVITATION_SENT)


# --- The pending list, resend, cancel --------------------------------------------------------


def test_admins_see_pending_invitations_in_bounded_queries(client_for, alice, bob, acme, django_assert_max_num_queries):
    for n in range(30):
        invitation_send(tenant=acme, email=f"p{n}@example.com", role="viewer", accept_url="http://testserver/a/")
    invite(client_for(alice), "new@example.com", role="admin")
    Invitation.objects.filter(email="p0@example.com").update(expires_at=timezone.now() - timedelta(days=1))
    client = client_for(alice)
    with django_assert_max_num_queries(8):
        body = client.get(url("members")).content.decode()
    assert "Pending invitations" in body and body.count('<tr id="invitation-') == 31
    row = re.search(r'<tr id="invitation-[^"]+">\s*<td>new@example.com</td>(.*?)</tr>', body, re.S).group(1)
    assert "<td>Admin</td>" in row and "<td>alice@example.com</td>" in row
    invitation = Invitation.objects.get(email="new@example.com")
    assert f'<time datetime="{invitation.sent_at.isoformat()}" title=' in row
    assert f'<time datetime="{invitation.expires_at.isoformat()}" title=' in row
    assert url("invitation_resend", invitation_id=invitation.public_id) in row
    assert url("invitation_cancel", invitation_id=invitation.public_id) in row
    assert "<strong>Expired</strong>" in body
    # Only admins act on invitations, so only they see them.
    assert "new@example.com" not in client_for(bob).get(url("members")).content.decode()


def test_resend_mails_a_new_link_with_a_new_expiry_and_the_old_one_stops_working(client, client_for, alice, acme):
    old_path = invited(client_for, alice, "new@example.com")
    invitation = Invitation.objects.get()
    Invitation.objects.update(expires_at=timezone.now() + timedelta(hours=1))
    response = client_for(alice).post(url("invitation_resend", invitation_id=invitation.public_id), follow=True)
    assert "Invitation sent to new@example.com again." in response.content.decode()
    assert len(mail.outbox) == 2
    new_path, _ = link_in(mail.outbox[1])
    assert new_path != old_path
    invitation.refresh_from_db()
    assert invitation.expires_at > timezone.now() + timedelta(days=6)
    assert ActivityEntry.objects.get(action=Action.INVITATION_RESENT).details == {
        "member": "new@example.com",
        "role": "developer",
    }
    client.logout()
    assert client.get(old_path).status_code == 404
    assert client.get(new_path).status_code == 200


def test_cancel_withdraws_the_invitation_and_its_link(client, client_for, alice, acme):
    path = invited(client_for, alice, "new@example.com")
    invitation = Invitation.objects.get()
    response = client_for(alice).post(url("invitation_cancel", invitation_id=invitation.public_id), follow=True)
    assert "Invitation to new@example.com cancelled." in response.content.decode()
    assert not Invitation.objects.exists()
    assert ActivityEntry.objects.filter(action=Action.INVITATION_CANCELLED).count() == 1
    client.logout()
    response = client.get(path)
    assert response.status_code == 404 and "does not work" in response.content.decode()
    response = client.post(ACCEPT, {"token": path.split("=")[1], "new_password1": NEW_PASSWORD})
    assert response.status_code == 404 and not User.objects.filter(email="new@example.com").exists()


def test_another_tenants_invitation_cannot_be_reached_through_mine(client_for, charlie, acme, globex):
    invitation = invitation_send(tenant=acme, email="new@example.com", role="viewer", accept_url="http://x/")
    client = client_for(charlie)
    for name in ("invitation_resend", "invitation_cancel"):
        path = reverse(f"tenants:{name}", kwargs={"code": "globex", "invitation_id": invitation.public_id})
        assert client.post(path).status_code == 404
    assert Invitation.objects.filter(pk=invitation.pk).exists() and len(mail.outbox) == 1  # not sent again


# --- Accepting --------------------------------------------------------------------------------


def test_someone_new_chooses_a_password_and_lands_in_the_tenant(client, client_for, alice, acme):
    path = invited(client_for, alice, "new@example.com", role="viewer")
    page = client.get(path)
    body = page.content.decode()
    assert page.status_code == 200 and page["Cache-Control"].startswith("max-age=0")
    assert "Join Acme Corp" in body and "Viewer" in body and 'name="new_password1"' in body
    token = path.split("=")[1]
    response = client.post(ACCEPT, {"token": token, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302 and response.url == reverse("apikeys:list", kwargs={"code": "acme"})
    user = User.objects.get(email="new@example.com")
    assert user.check_password(NEW_PASSWORD)
    assert Membership.objects.get(user=user, tenant=acme).role == Role.VIEWER
    landed = client.get(response.url)  # logged in as the new member
    assert landed.status_code == 200 and "Welcome to Acme Corp: you are Viewer." in landed.content.decode()
    entry = ActivityEntry.objects.get(action=Action.INVITATION_ACCEPTED)
    assert entry.actor == user and entry.details == {"member": "new@example.com", "role": "viewer"}
    assert not Invitation.objects.exists()


def test_the_password_must_pass_the_validators_and_nothing_is_created_until_it_does(client, client_for, alice, acme):
    token = invited(client_for, alice, "new@example.com").split("=")[1]
    response = client.post(ACCEPT, {"token": token, "new_password1": "12345678", "new_password2": "12345678"})
    assert response.status_code == 400
    assert "This password is entirely numeric." in response.content.decode()
    assert not User.objects.filter(email="new@example.com").exists() and Invitation.objects.exists()


def test_a_logged_in_invitee_accepts_with_one_post(client, client_for, alice, charlie, acme):
    path = invited(client_for, alice, "charlie@example.com", role="admin")
    client.force_login(charlie)
    page = client.get(path).content.decode()
    assert "Accept and join Acme Corp" in page and "new_password1" not in page
    response = client.post(ACCEPT, {"token": path.split("=")[1]})
    assert response.url == reverse("apikeys:list", kwargs={"code": "acme"})
    assert Membership.objects.get(user=charlie, tenant=acme).role == Role.ADMIN
    charlie.refresh_from_db()
    assert charlie.check_password(PASSWORD)


def test_a_logged_out_invitee_with_an_account_logs_in_then_accepts(client, client_for, alice, charlie, acme):
    path = invited(client_for, alice, "charlie@example.com")
    page = client.get(path)
    body = page.content.decode()
    assert page.status_code == 200 and "Log in to accept" in body and "new_password1" not in body
    login_url = re.search(r'href="(/accounts/login/\?next=[^"]+)"', body).group(1).replace("&amp;", "&")
    login_page = client.get(login_url)
    assert login_page.status_code == 200
    logged_in = client.post(
        login_url,
        {
            "username": "charlie@example.com",
            "password": PASSWORD,
            "next": parse_qs(urlsplit(login_url).query)["next"][0],
        },
    )
    assert logged_in.status_code == 302 and logged_in.url == path
    assert "Accept and join Acme Corp" in client.get(logged_in.url).content.decode()
    client.post(ACCEPT, {"token": path.split("=")[1]})
    assert Membership.objects.get(user=charlie, tenant=acme).role == Role.DEVELOPER


def test_the_link_cannot_set_the_password_of_an_account_that_has_one(client, client_for, alice, charlie, acme):
    token = invited(client_for, alice, "charlie@example.com").split("=")[1]
    response = client.post(ACCEPT, {"token": token, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert "Log in to accept" in response.content.decode()
    charlie.refresh_from_db()
    assert charlie.check_password(PASSWORD) and not charlie.check_password(NEW_PASSWORD)
    assert not Membership.objects.filter(user=charlie, tenant=acme).exists()


def test_an_account_without_a_usable_password_gets_one_through_the_invitation(client, client_for, alice, acme):
    user = User.objects.create_user(email="nopass@example.com", password=None)  # e.g. create_tenant's
    token = invited(client_for, alice, "nopass@example.com").split("=")[1]
    client.post(ACCEPT, {"token": token, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert Membership.objects.filter(user=user, tenant=acme).exists()


def test_someone_logged_in_with_another_address_is_refused(client, client_for, alice, bob, charlie, acme, globex):
    path = invited(client_for, alice, "charlie@example.com")
    client.force_login(bob)
    page = client.get(path)
    assert page.status_code == 403
    assert (
        "This invitation is for charlie@example.com, but you are logged in as bob@example.com." in page.content.decode()
    )
    assert "Log out and open the invitation again" in page.content.decode()
    response = client.post(ACCEPT, {"token": path.split("=")[1]})
    assert response.status_code == 403
    assert not Membership.objects.filter(tenant=acme, user=charlie).exists()
    assert Membership.objects.get(tenant=acme, user=bob).role == Role.VIEWER
    assert Invitation.objects.exists()


def test_an_expired_link_is_refused(client, client_for, alice, acme):
    path = invited(client_for, alice, "new@example.com")
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    page = client.get(path)
    assert page.status_code == 410 and "This invitation has expired." in page.content.decode()
    token = path.split("=")[1]
    response = client.post(ACCEPT, {"token": token, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 410
    assert not User.objects.filter(email="new@example.com").exists()


def test_a_link_works_once(client, client_for, alice, charlie, acme):
    path = invited(client_for, alice, "charlie@example.com", role="viewer")
    client.force_login(charlie)
    client.post(ACCEPT, {"token": path.split("=")[1]})
    Membership.objects.filter(user=charlie, tenant=acme).update(role=Role.VIEWER)
    assert client.get(path).status_code == 404
    assert client.post(ACCEPT, {"token": path.split("=")[1]}).status_code == 404
    assert ActivityEntry.objects.filter(action=Action.INVITATION_ACCEPTED).count() == 1


@pytest.mark.parametrize("token", ["", "nonsense", "akpi_" + "A" * 43, "akps_" + "A" * 49])
def test_an_unknown_token_is_refused(client, token, acme):
    response = client.get(ACCEPT, {"token": token})
    assert response.status_code == 404 and "does not work" in response.content.decode()


def test_the_token_is_never_in_a_path_and_never_logged(client, client_for, alice, acme, caplog):
    path = invited(client_for, alice, "new@example.com")
    token = path.split("=")[1]
    assert path.startswith(ACCEPT + "?")  # access logs hold paths without query strings
    with caplog.at_level("DEBUG"):
        client.get(path)
        client.post(ACCEPT, {"token": token, "new_password1": "x", "new_password2": "y"})
        client.post(ACCEPT, {"token": token, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
        client.get(path)  # used: 404, which Django logs
    assert caplog.records and token not in caplog.text


def test_the_admin_lists_invitations_without_their_token(client, client_for, alice, acme, django_user_model):
    invite(client_for(alice), "new@example.com")
    _, token = link_in(mail.outbox[0])
    invitation = Invitation.objects.get()
    client.force_login(django_user_model.objects.create_superuser(email="ops@example.com", password="x-long-pw"))
    for page in (
        reverse("admin:tenants_invitation_changelist"),
        reverse("admin:tenants_invitation_change", args=[invitation.pk]),
    ):
        body = client.get(page).content.decode()
        assert "new@example.com" in body
        assert token not in body and bytes(invitation.token_digest).hex() not in body and "digest" not in body.lower()
