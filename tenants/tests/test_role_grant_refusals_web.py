"""How the Members page shows a grant the rule refuses (tenants.grants): the form again with the
error, status 400, what was typed kept, nothing stored, mailed or recorded.

Today only re-authenticated admins reach these forms, and they may give every role, so the
refusal is brought about here by giving the page a person who may give no more than viewer:
what a future role with member management but not every power would meet."""

import pytest
from django.core import mail
from django.urls import reverse

from activity.models import Action, ActivityEntry
from tenants import views
from tenants.grants import READ_EVERY_SECRET, Powers
from tenants.models import Invitation, Membership, Role
from tenants.services import invitation_send

pytestmark = pytest.mark.django_db

LACKS = "only developers and admins see secrets"
GRANTS = [Action.INVITATION_SENT, Action.INVITATION_RESENT, Action.MEMBER_CHANGED, Action.MEMBER_REMOVED]


@pytest.fixture
def viewer_level(monkeypatch, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    powers = Powers(manage_members=True, see_keys=True, who="You", lacking={READ_EVERY_SECRET: LACKS})
    monkeypatch.setattr(views, "person_powers", lambda role, *, reauthenticated: powers)


def url(name, **kwargs):
    return reverse(f"tenants:{name}", kwargs={"code": "acme", **kwargs})


def test_an_invitation_beyond_the_inviter_is_a_form_error_keeping_the_address(client_for, alice, acme, viewer_level):
    response = client_for(alice).post(url("member_add"), {"email": "new@example.com", "role": "admin"})
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["role"] == [f"You cannot give the Admin role: {LACKS}."]
    assert 'value="new@example.com"' in response.content.decode()
    assert not Invitation.objects.exists() and mail.outbox == []
    assert not ActivityEntry.objects.filter(action__in=GRANTS).exists()
    # Within the bound it goes through.
    assert client_for(alice).post(url("member_add"), {"email": "new@example.com", "role": "viewer"}).status_code == 302


def test_a_role_change_beyond_the_changer_shows_the_error_at_the_members_row(
    client_for, alice, bob, acme, viewer_level
):
    member = Membership.objects.get(user=bob)
    response = client_for(alice).post(url("member_role", member_id=member.pk), {"role": "admin"})
    assert response.status_code == 400
    page = response.content.decode()
    assert f"You cannot give the Admin role: {LACKS}." in page
    assert f'id="role-error-{member.pk}"' in page and '<option value="admin" selected>' in page
    assert Membership.objects.get(user=bob).role == Role.VIEWER
    assert not ActivityEntry.objects.filter(action__in=GRANTS).exists()


def test_removing_a_more_powerful_member_shows_the_error_on_the_confirmation(
    client_for, alice, dave, acme, viewer_level
):
    member = Membership.objects.get(user=dave)
    response = client_for(alice).post(url("member_remove", member_id=member.pk))
    assert response.status_code == 400
    assert f"You cannot change or remove a member who is Developer: {LACKS}." in response.content.decode()
    assert Membership.objects.filter(pk=member.pk).exists()


def test_resending_an_invitation_beyond_the_resender_shows_the_error_at_its_row(client_for, alice, acme, viewer_level):
    invitation = invitation_send(tenant=acme, email="new@example.com", role="developer", accept_url="http://t/a/")
    sent = len(mail.outbox)
    response = client_for(alice).post(url("invitation_resend", invitation_id=invitation.public_id))
    assert response.status_code == 400
    assert f"You cannot give the Developer role: {LACKS}." in response.content.decode()
    assert len(mail.outbox) == sent
    assert Invitation.objects.get(pk=invitation.pk).inviter_kind == Invitation.Inviter.SYSTEM
    assert not ActivityEntry.objects.filter(action=Action.INVITATION_RESENT).exists()
