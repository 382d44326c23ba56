import pytest
from django.core import mail
from django.urls import reverse

from activity.models import Action, ActivityEntry
from tenants.models import Membership, Role

pytestmark = pytest.mark.django_db


def url(name, **kwargs):
    return reverse(f"tenants:{name}", kwargs={"code": "acme", **kwargs})


def test_every_member_sees_who_has_access(client_for, bob, acme):
    body = client_for(bob).get(url("members")).content.decode()
    assert "alice@example.com" in body and "dave@example.com" in body
    assert "Add member" not in body


def test_an_admin_adds_a_new_person_who_gets_a_password_link(client_for, alice, acme):
    response = client_for(alice).post(url("members"), {"email": "New@Example.com", "role": "developer"})
    assert response.status_code == 302
    member = Membership.objects.get(tenant=acme, user__email="new@example.com")
    assert member.role == Role.DEVELOPER
    assert not member.user.has_usable_password()
    assert len(mail.outbox) == 1 and "/accounts/password/reset/" in mail.outbox[0].body
    entry = ActivityEntry.objects.get(action=Action.MEMBER_ADDED)
    assert entry.details == {"member": "new@example.com", "role": "developer"}


def test_adding_an_existing_member_is_a_form_error(client_for, alice, acme):
    response = client_for(alice).post(url("members"), {"email": "bob@example.com", "role": "admin"})
    assert response.status_code == 400
    assert "already a member" in response.content.decode()
    assert Membership.objects.get(tenant=acme, user__email="bob@example.com").role == Role.VIEWER


def test_an_admin_changes_a_role_and_it_is_logged(client_for, alice, bob, acme):
    member = Membership.objects.get(tenant=acme, user=bob)
    client_for(alice).post(url("member_role", member_id=member.pk), {"role": "developer"})
    member.refresh_from_db()
    assert member.role == Role.DEVELOPER
    assert ActivityEntry.objects.get(action=Action.MEMBER_CHANGED).details == {
        "member": "bob@example.com",
        "from": "viewer",
        "to": "developer",
    }


def test_the_last_admin_can_be_neither_demoted_nor_removed(client_for, alice, acme):
    me = Membership.objects.get(tenant=acme, user=alice)
    client = client_for(alice)
    response = client.post(url("member_role", member_id=me.pk), {"role": "viewer"}, follow=True)
    assert "at least one admin" in response.content.decode()
    client.post(url("member_remove", member_id=me.pk))
    me.refresh_from_db()
    assert me.role == Role.ADMIN


def test_an_admin_removes_a_member(client_for, alice, bob, acme):
    member = Membership.objects.get(tenant=acme, user=bob)
    client_for(alice).post(url("member_remove", member_id=member.pk))
    assert not Membership.objects.filter(pk=member.pk).exists()
    assert client_for(bob).get(reverse("apikeys:list", kwargs={"code": "acme"})).status_code == 404


def test_non_admins_get_403_and_non_members_404(client_for, dave, bob, charlie, acme, globex):
    target = Membership.objects.get(tenant=acme, user=bob)
    for user in (dave, bob):
        client = client_for(user)
        assert client.post(url("members"), {"email": "x@example.com", "role": "admin"}).status_code == 403
        assert client.post(url("member_role", member_id=target.pk), {"role": "admin"}).status_code == 403
        assert client.post(url("member_remove", member_id=target.pk)).status_code == 403
    outsider = client_for(charlie)
    assert outsider.get(url("members")).status_code == 404
    assert outsider.post(url("member_remove", member_id=target.pk)).status_code == 404
    # A membership of another tenant cannot be reached through acme.
    other = Membership.objects.get(tenant=globex)
    assert (
        client_for(charlie)
        .post(reverse("tenants:member_remove", kwargs={"code": "globex", "member_id": target.pk}))
        .status_code
        == 404
    )
    assert Membership.objects.filter(pk=other.pk).exists()
