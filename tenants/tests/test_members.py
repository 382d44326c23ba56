import re

import pytest
from django.core import mail
from django.urls import reverse

from activity.models import Action, ActivityEntry
from tenants.models import Invitation, Membership, Role

pytestmark = pytest.mark.django_db


def url(name, **kwargs):
    return reverse(f"tenants:{name}", kwargs={"code": "acme", **kwargs})


def test_every_member_sees_who_has_access(client_for, bob, acme):
    body = client_for(bob).get(url("members")).content.decode()
    assert "alice@example.com" in body and "dave@example.com" in body
    assert "Invite member" not in body and "Remove" not in body


def test_inviting_an_existing_member_is_a_form_error(client_for, alice, acme):
    response = client_for(alice).post(url("member_add"), {"email": "Bob@Example.com", "role": "admin"})
    assert response.status_code == 400
    assert "already a member" in response.content.decode()
    assert Membership.objects.get(tenant=acme, user__email="bob@example.com").role == Role.VIEWER
    assert mail.outbox == [] and not Invitation.objects.exists()


def test_invalid_input_rerenders_the_members_page_keeping_what_was_typed(client_for, alice, acme):
    response = client_for(alice).post(url("member_add"), {"email": "not-an-address", "role": "admin"})
    body = response.content.decode()
    assert response.status_code == 400
    assert "Enter a valid email address." in body
    assert 'value="not-an-address"' in body and '<option value="admin" selected>' in body
    assert "bob@example.com" in body  # still the Members page, with its list
    assert not Invitation.objects.exists() and mail.outbox == []


def test_an_empty_post_shows_the_required_errors(client_for, alice, acme):
    response = client_for(alice).post(url("member_add"))
    assert response.status_code == 400
    body = response.content.decode()
    assert body.count("This field is required.") == 4  # listed and linked in the error summary, and at each field
    assert body.count(": This field is required.</a></li>") == 2


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


def test_removing_a_member_asks_first_without_javascript(client_for, alice, bob, acme):
    member = Membership.objects.get(tenant=acme, user=bob)
    response = client_for(alice).get(url("member_remove", member_id=member.pk))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Remove bob@example.com?" in body
    assert f'<form method="post" action="{url("member_remove", member_id=member.pk)}">' in body
    assert Membership.objects.filter(pk=member.pk).exists()  # asking changes nothing


def test_the_members_page_confirms_a_removal_in_a_dialog(client_for, alice, bob, acme):
    member = Membership.objects.get(tenant=acme, user=bob)
    body = client_for(alice).get(url("members")).content.decode()
    # The Remove link leads to the confirmation page; dialog.js opens the dialog instead and
    # points its form at the link's URL.
    link = rf'<a [^>]*href="{url("member_remove", member_id=member.pk)}"\s+data-dialog="remove-dialog"'
    assert re.search(link + r'\s+data-dialog-subject="bob@example.com"', body)
    assert '<dialog id="remove-dialog"' in body and "js/dialog.js" in body
    dialog = body[body.index('<dialog id="remove-dialog"') :]
    assert '<form method="post" action="">' in dialog and "data-dialog-close" in dialog


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
    assert not Invitation.objects.exists() and mail.outbox == []


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
