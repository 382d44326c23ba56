"""The management API gives no person more than the calling key could do itself (issue 18,
tenants.grants and api/grants.py): the attack found from outside, the developer bound being the
API's own rule for revealing a key's secret, and members more powerful than the key. The whole
caller × role × channel table is tenants/tests/test_role_grants.py."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from activity.models import Action, ActivityEntry
from apikeys.auth import builtin_scope_names
from apikeys.models import KeyKind
from apikeys.services import key_create, key_update
from scopes.models import Scope
from tenants.models import Invitation, Membership, Role

from .conftest import every_offered_scope, token_for

pytestmark = pytest.mark.django_db

MEMBER_MANAGE, KEY_READ, SECRET_REVEAL = "portal.member_manage", "portal.key_read", "portal.secret_reveal"
PROBLEM = "urn:api-key-portal:problem:role-escalation"
GRANTS = [Action.INVITATION_SENT, Action.MEMBER_CHANGED, Action.INVITATION_ACCEPTED, Action.MEMBER_REMOVED]
LINK = re.compile(r"token=(akpi_[\w-]+)")


def developer_scopes() -> list[str]:
    """What giving the developer role takes: reading every secret as the API does, with
    portal.key_read (what a viewer sees) and portal.member_manage (giving roles at all)."""
    return [MEMBER_MANAGE, KEY_READ, SECRET_REVEAL, *builtin_scope_names(KeyKind.EMPORIX)]


def reveal_in_the_web_ui(client, reauthenticated, user, key):
    client.force_login(user)
    reauthenticated(client)
    url = reverse("apikeys:secret", kwargs={"code": "acme", "key_id": key.public_id})
    return client.post(url, HTTP_ACCEPT="application/json")


def test_issue_18_a_member_manage_key_cannot_make_its_holder_an_admin(
    client, api, caller, acme, bob, acme_secrets, reauthenticated, settings
):
    """The finding: a key holding only portal.member_manage invited an address its holder
    controls as admin, or promoted a viewer to admin, who then read the Emporix API key's secret
    in the web UI. Both are refused, nothing is sent or recorded, and bob stays a viewer who
    cannot reveal that secret."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    _, _, token = caller(acme, [MEMBER_MANAGE], name="HR sync")
    emporix, emporix_secret = acme_secrets[KeyKind.EMPORIX]

    invited = api("post", "/api/v1/invitations/", token, {"email": "mallory@example.com", "role": "admin"})
    assert invited.status_code == 403 and invited["Content-Type"] == "application/problem+json; charset=utf-8"
    assert invited.json()["type"] == PROBLEM
    assert invited.json()["detail"].startswith("The calling key cannot give the Admin role: ")
    promoted = api("patch", "/api/v1/members/bob@example.com/", token, {"role": "admin"})
    assert promoted.status_code == 403 and promoted.json()["type"] == PROBLEM

    assert not Invitation.objects.exists() and mail.outbox == []
    assert not ActivityEntry.objects.filter(action__in=GRANTS).exists()
    assert Membership.objects.get(tenant=acme, user=bob).role == Role.VIEWER
    revealed = reveal_in_the_web_ui(client, reauthenticated, bob, emporix)
    assert revealed.status_code == 403 and emporix_secret not in revealed.content.decode()


def test_issue_18_an_admin_invitation_sent_by_such_a_key_before_the_fix_cannot_be_accepted(
    client, caller, acme, acme_secrets, reauthenticated, django_user_model, settings
):
    """An invitation the attack left pending: accepting checks what its sender may give now."""
    from conftest import make_user
    from tenants.services import invitation_send

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    key, _, _ = caller(acme, [MEMBER_MANAGE], name="HR sync")
    invitation = invitation_send(tenant=acme, email="mallory@example.com", role="admin", accept_url="http://t/a/")
    Invitation.objects.filter(pk=invitation.pk).update(inviter_kind=Invitation.Inviter.KEY, invited_by_key=key)
    token = LINK.search(mail.outbox[-1].body).group(1)
    mallory = make_user(django_user_model, "mallory@example.com")
    client.force_login(mallory)

    page = client.get(reverse("tenants:invitation_accept"), {"token": token})
    assert page.status_code == 403 and "can no longer give the Admin role" in page.content.decode()
    accepted = client.post(reverse("tenants:invitation_accept"), {"token": token})
    assert accepted.status_code == 403
    assert not Membership.objects.filter(tenant=acme, user=mallory).exists()
    assert not ActivityEntry.objects.filter(action=Action.INVITATION_ACCEPTED).exists()
    emporix, emporix_secret = acme_secrets[KeyKind.EMPORIX]
    revealed = reveal_in_the_web_ui(client, reauthenticated, mallory, emporix)
    assert revealed.status_code == 404 and emporix_secret not in revealed.content.decode()


def test_the_developer_bound_is_the_reveal_rule(api, caller, acme, acme_secrets, dave):
    """A key may give the developer role exactly when it could reveal every key's secret itself:
    one catalogue scope short, it can do neither."""
    emporix, emporix_secret = acme_secrets[KeyKind.EMPORIX]
    _, _, able = caller(acme, developer_scopes(), name="able")
    short = [scope for scope in developer_scopes() if scope != "tax.tax_read"]
    _, _, one_short = caller(acme, short, name="one short")

    assert api("post", f"/api/v1/keys/{emporix.public_id}/reveal/", able).json()["secret"] == emporix_secret
    assert (
        api("post", "/api/v1/invitations/", able, {"email": "dev@example.com", "role": "developer"}).status_code == 201
    )

    assert api("post", f"/api/v1/keys/{emporix.public_id}/reveal/", one_short).status_code == 403
    refused = api("post", "/api/v1/invitations/", one_short, {"email": "dev2@example.com", "role": "developer"})
    assert refused.status_code == 403 and "tax.tax_read" in refused.json()["detail"]
    # Neither reaches admin: that needs every offered scope.
    admin = api("patch", "/api/v1/members/bob@example.com/", able, {"role": "admin"})
    assert admin.status_code == 403 and "portal.activity_read" in admin.json()["detail"]


def test_a_more_powerful_key_in_the_tenant_raises_the_developer_bound(api, caller, acme):
    """A developer can reveal every key's secret, a custom key holding portal scopes too: a key
    lacking one of those cannot give the developer role."""
    _, _, able = caller(acme, developer_scopes(), name="able")
    body = {"email": "dev@example.com", "role": "developer"}
    key_create(
        tenant=acme,
        kind=KeyKind.CUSTOM,
        name="Auditor",
        scopes=Scope.objects.filter(name__in=["portal.activity_read"]),
    )
    refused = api("post", "/api/v1/invitations/", able, body)
    assert refused.status_code == 403 and "portal.activity_read" in refused.json()["detail"]


def test_a_key_cannot_change_or_remove_a_member_more_powerful_than_itself(api, caller, acme, bob, dave):
    _, _, token = caller(acme, [MEMBER_MANAGE, KEY_READ])
    demote = api("patch", "/api/v1/members/dave@example.com/", token, {"role": "viewer"})
    assert demote.status_code == 403 and "a member who is Developer" in demote.json()["detail"]
    assert api("delete", "/api/v1/members/dave@example.com/", token).status_code == 403
    assert api("delete", "/api/v1/members/alice@example.com/", token).status_code == 403
    assert Membership.objects.filter(tenant=acme, user=dave, role=Role.DEVELOPER).exists()
    assert api("delete", "/api/v1/members/bob@example.com/", token).status_code == 204
    assert not ActivityEntry.objects.filter(action=Action.MEMBER_CHANGED).exists()


def test_a_key_holding_every_scope_gives_every_role(api, caller, acme, bob, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    key, _, token = caller(acme, every_offered_scope(), name="Platform")
    assert api("patch", "/api/v1/members/bob@example.com/", token, {"role": "admin"}).status_code == 200
    invited = api("post", "/api/v1/invitations/", token, {"email": "ops@example.com", "role": "admin"})
    assert invited.status_code == 201
    invitation = Invitation.objects.get(email="ops@example.com")
    assert (invitation.inviter_kind, invitation.invited_by_key_id, invitation.invited_by_id) == ("key", key.pk, None)


def test_a_refused_invitation_with_an_idempotency_key_is_not_kept(client, api, caller, acme, settings):
    """The refusal rolls back the Idempotency-Key's record: the same request, once the key holds
    what it needs, takes effect instead of replaying the refusal."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    key, secret, token = caller(acme, [MEMBER_MANAGE])
    body = {"email": "new@example.com", "role": "viewer"}
    assert api("post", "/api/v1/invitations/", token, body, HTTP_IDEMPOTENCY_KEY="sync-1").status_code == 403
    key_update(key=key, name=key.name, scopes=Scope.objects.filter(name__in=[MEMBER_MANAGE, KEY_READ]))
    token = token_for(client, key, secret)
    assert api("post", "/api/v1/invitations/", token, body, HTTP_IDEMPOTENCY_KEY="sync-1").status_code == 201
    assert Invitation.objects.filter(email="new@example.com", role="viewer").count() == 1
