import re

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
    response = client_for(alice).post(url("member_add"), {"email": "New@Example.com", "role": "developer"})
    assert response.status_code == 302 and response.url == url("members")
    member = Membership.objects.get(tenant=acme, user__email="new@example.com")
    assert member.role == Role.DEVELOPER
    assert not member.user.has_usable_password()
    assert len(mail.outbox) == 1 and "/accounts/password/reset/" in mail.outbox[0].body
    entry = ActivityEntry.objects.get(action=Action.MEMBER_ADDED)
    assert entry.details == {"member": "new@example.com", "role": "developer"}


def test_the_welcome_mail_link_lets_the_new_member_choose_a_password(client, client_for, alice, acme):
    response = client_for(alice).post(url("member_add"), {"email": "new@example.com", "role": "viewer"}, follow=True)
    assert "new@example.com added as Viewer and sent a link to choose a password." in response.content.decode()
    (welcome,) = mail.outbox
    assert welcome.subject == "You have been given access to the API Key Portal"
    assert welcome.to == ["new@example.com"]
    assert "You have been added to a tenant on the API Key Portal as new@example.com." in welcome.body
    link = re.search(r"http://testserver(/accounts/password/reset/\S+)", welcome.body).group(1)
    client.logout()
    form = client.get(link, follow=True)
    assert form.status_code == 200
    client.post(
        form.redirect_chain[-1][0], {"new_password1": "a-long-new-pass-2026", "new_password2": "a-long-new-pass-2026"}
    )
    assert Membership.objects.get(tenant=acme, user__email="new@example.com").user.check_password(
        "a-long-new-pass-2026"
    )


def test_adding_someone_who_has_an_account_sends_no_mail(client_for, alice, charlie, acme):
    response = client_for(alice).post(
        url("member_add"), {"email": "charlie@example.com", "role": "viewer"}, follow=True
    )
    assert "charlie@example.com added as Viewer." in response.content.decode()
    assert mail.outbox == []


def test_adding_an_existing_member_is_a_form_error(client_for, alice, acme):
    response = client_for(alice).post(url("member_add"), {"email": "bob@example.com", "role": "admin"})
    assert response.status_code == 400
    assert "already a member" in response.content.decode()
    assert Membership.objects.get(tenant=acme, user__email="bob@example.com").role == Role.VIEWER


def test_invalid_input_rerenders_the_members_page_keeping_what_was_typed(client_for, alice, acme):
    response = client_for(alice).post(url("member_add"), {"email": "not-an-address", "role": "admin"})
    body = response.content.decode()
    assert response.status_code == 400
    assert "Enter a valid email address." in body
    assert 'value="not-an-address"' in body and '<option value="admin" selected>' in body
    assert "bob@example.com" in body  # still the Members page, with its list
    assert not Membership.objects.filter(user__email="not-an-address").exists()


def test_an_empty_post_shows_the_required_errors(client_for, alice, acme):
    response = client_for(alice).post(url("member_add"))
    assert response.status_code == 400
    assert response.content.decode().count("This field is required.") == 2


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


def test_an_empty_role_change_is_an_error_that_changes_nothing(client_for, alice, bob, acme):
    member = Membership.objects.get(tenant=acme, user=bob)
    response = client_for(alice).post(url("member_role", member_id=member.pk), follow=True)
    assert "Choose a valid role." in response.content.decode()
    member.refresh_from_db()
    assert member.role == Role.VIEWER


def test_non_admins_change_nothing(client_for, dave, bob, acme):
    target = Membership.objects.get(tenant=acme, user=bob)
    for user in (dave, bob):
        client = client_for(user)
        client.post(url("member_add"), {"email": "x@example.com", "role": "admin"})
        client.post(url("member_role", member_id=target.pk), {"role": "admin"})
        client.post(url("member_remove", member_id=target.pk))
    target.refresh_from_db()
    assert target.role == Role.VIEWER
    assert not Membership.objects.filter(user__email="x@example.com").exists()


def test_a_membership_of_another_tenant_cannot_be_reached_through_mine(client_for, charlie, bob, acme, globex):
    # charlie, admin of globex, names bob's acme membership under globex's code.
    target = Membership.objects.get(tenant=acme, user=bob)
    client = client_for(charlie)
    assert (
        client.post(reverse("tenants:member_remove", kwargs={"code": "globex", "member_id": target.pk})).status_code
        == 404
    )
    assert (
        client.post(
            reverse("tenants:member_role", kwargs={"code": "globex", "member_id": target.pk}), {"role": "admin"}
        ).status_code
        == 404
    )
    target.refresh_from_db()
    assert target.role == Role.VIEWER
