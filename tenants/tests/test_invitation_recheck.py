"""Accepting an invitation checks what its sender may give now (tenants.grants.sender_powers):
a person demoted, removed or deleted since, or a key narrowed, disabled or deleted since, no
longer backs it. It is refused (403, not capped to a lower role), says so before anyone
chooses a password, and stays for an admin to resend, which makes that admin its sender."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from activity.audit import Audit
from activity.models import Action, ActivityEntry
from apikeys.models import KeyKind
from apikeys.services import key_create, key_delete, key_disable, key_enable, key_update
from scopes.models import Scope
from tenants.grants import person_powers
from tenants.models import Invitation, Membership, Role
from tenants.services import invitation_send, member_change_role, member_remove

pytestmark = pytest.mark.django_db

ACCEPT = reverse("tenants:invitation_accept")
LINK = re.compile(r"token=(akpi_[\w-]+)")
NEW_PASSWORD = "a-long-new-pass-2026"
REFUSED = "This invitation can no longer be accepted: whoever sent it can no longer give the {} role."


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def sent_by_alice(acme, alice, role=Role.ADMIN) -> str:
    """alice, re-authenticated, invites new@example.com; the link's token."""
    invitation_send(
        tenant=acme,
        email="new@example.com",
        role=role,
        accept_url="http://testserver" + ACCEPT,
        audit=Audit(actor=alice),
        grantor=person_powers(Role.ADMIN, reauthenticated=True),
    )
    return LINK.search(mail.outbox[-1].body).group(1)


def sent_by_key(acme, scopes: list[str], role=Role.VIEWER):
    """A key of acme holding `scopes` invites new@example.com (as the API does); (key, token)."""
    from api.grants import key_powers

    key, _ = key_create(tenant=acme, kind=KeyKind.CUSTOM, name="HR sync", scopes=Scope.objects.filter(name__in=scopes))
    invitation_send(
        tenant=acme,
        email="new@example.com",
        role=role,
        accept_url="http://testserver" + ACCEPT,
        audit=Audit(actor_key=key),
        grantor=key_powers(frozenset(scopes), acme),
    )
    return key, LINK.search(mail.outbox[-1].body).group(1)


def accept_as_newcomer(client, token):
    """Whoever has no account chooses a password and accepts."""
    return client.post(ACCEPT, {"token": token, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})


def joined(acme) -> str | None:
    return Membership.objects.filter(tenant=acme, user__email="new@example.com").values_list("role", flat=True).first()


def test_an_admin_demoted_since_no_longer_backs_an_admin_invitation(client, acme, alice, bob):
    token = sent_by_alice(acme, alice)
    member_change_role(membership=Membership.objects.get(tenant=acme, role=Role.VIEWER), role=Role.ADMIN)
    member_change_role(membership=Membership.objects.get(user=alice), role=Role.DEVELOPER)

    page = client.get(ACCEPT, {"token": token})
    assert page.status_code == 403
    assert REFUSED.format("Admin") in page.content.decode()
    assert "new_password1" not in page.content.decode()  # nobody chooses a password for nothing
    response = accept_as_newcomer(client, token)
    assert response.status_code == 403 and REFUSED.format("Admin") in response.content.decode()
    assert joined(acme) is None
    assert Invitation.objects.filter(email="new@example.com").exists()  # refused, not capped or deleted
    assert not ActivityEntry.objects.filter(action=Action.INVITATION_ACCEPTED).exists()


def test_a_sender_removed_or_deleted_since_backs_nothing(client, acme, alice, bob, dave):
    token = sent_by_alice(acme, alice, role=Role.VIEWER)
    member_change_role(membership=Membership.objects.get(user=bob), role=Role.ADMIN)
    member_remove(membership=Membership.objects.get(user=alice))
    assert client.get(ACCEPT, {"token": token}).status_code == 403
    Membership.objects.create(user=alice, tenant=acme, role=Role.ADMIN)
    assert client.get(ACCEPT, {"token": token}).status_code == 200  # back as admin: backed again
    alice.delete()
    assert Invitation.objects.get(email="new@example.com").invited_by is None
    assert accept_as_newcomer(client, token).status_code == 403
    assert joined(acme) is None


def test_a_key_narrowed_disabled_or_deleted_since_no_longer_backs_its_invitation(client, acme):
    key, token = sent_by_key(acme, ["portal.member_manage", "portal.key_read"])
    key_update(key=key, name=key.name, scopes=Scope.objects.filter(name="portal.member_manage"))
    assert client.get(ACCEPT, {"token": token}).status_code == 403
    key_update(
        key=key, name=key.name, scopes=Scope.objects.filter(name__in=["portal.member_manage", "portal.key_read"])
    )
    assert client.get(ACCEPT, {"token": token}).status_code == 200
    key_disable(key=key)
    assert client.get(ACCEPT, {"token": token}).status_code == 403
    key_enable(key=key)
    assert client.get(ACCEPT, {"token": token}).status_code == 200
    key_delete(key=key)
    assert Invitation.objects.get(email="new@example.com").invited_by_key is None
    response = accept_as_newcomer(client, token)
    assert response.status_code == 403 and REFUSED.format("Viewer") in response.content.decode()
    assert joined(acme) is None


def test_a_key_that_still_backs_its_invitation_gets_it_accepted(client, acme):
    _, token = sent_by_key(acme, ["portal.member_manage", "portal.key_read"])
    assert accept_as_newcomer(client, token).status_code == 302
    assert joined(acme) == Role.VIEWER


def test_a_sender_demoted_between_the_page_and_the_post_is_caught_by_the_acceptance(client, acme, alice, bob):
    token = sent_by_alice(acme, alice, role=Role.DEVELOPER)
    assert client.get(ACCEPT, {"token": token}).status_code == 200
    member_change_role(membership=Membership.objects.get(user=bob), role=Role.ADMIN)
    member_change_role(membership=Membership.objects.get(user=alice), role=Role.VIEWER)
    assert accept_as_newcomer(client, token).status_code == 403
    assert joined(acme) is None


def test_an_admin_resending_it_becomes_its_sender_and_it_works_again(client_for, client, acme, alice, bob, dave):
    """The refused invitation stays on the Members page, naming its sender; the admin who
    resends it vouches for it from then on."""
    key, token = sent_by_key(acme, ["portal.member_manage", "portal.key_read"])
    key_disable(key=key)
    invitation = Invitation.objects.get(email="new@example.com")
    members = client_for(alice).get(reverse("tenants:members", kwargs={"code": "acme"}))
    assert "API key HR sync" in members.content.decode()
    url = reverse("tenants:invitation_resend", kwargs={"code": "acme", "invitation_id": invitation.public_id})
    assert client_for(alice).post(url).status_code == 302
    invitation.refresh_from_db()
    assert (invitation.inviter_kind, invitation.invited_by, invitation.invited_by_key) == ("person", alice, None)
    client.logout()
    token = LINK.search(mail.outbox[-1].body).group(1)
    assert accept_as_newcomer(client, token).status_code == 302
    assert joined(acme) == Role.VIEWER


def test_an_existing_member_gains_nothing_by_accepting(client, acme, alice, bob):
    """Accepting never raises an existing member's role, whoever sent it."""
    invitation_send(
        tenant=acme,
        email="bob@example.com",
        role=Role.ADMIN,
        accept_url="http://testserver" + ACCEPT,
        audit=Audit(actor=alice),
        grantor=person_powers(Role.ADMIN, reauthenticated=True),
    )
    token = LINK.search(mail.outbox[-1].body).group(1)
    client.force_login(bob)
    assert client.post(ACCEPT, {"token": token}).status_code == 302
    assert Membership.objects.get(tenant=acme, user=bob).role == Role.VIEWER
