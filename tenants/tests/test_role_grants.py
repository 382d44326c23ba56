"""Who may give which role, over every channel that gives one (issue 18: nobody, person or key,
gives a person more than it could do itself; tenants.grants).

The permission table: caller × role given × channel → outcome.

Callers: alice, acme's admin, re-authenticated ("admin") and not ("admin_stale"); dave, a
developer; bob, a viewer; acme keys holding portal.member_manage only ("key_members"), with
portal.key_read ("key_members_read"), with portal.key_read, portal.secret_reveal and the whole
catalogue, as a developer can reveal ("key_developer"), and every offered scope ("key_all").

Channels: the Members page's invitation ("web_invite") and role change of erin, a viewer
("web_role"); the management API's invitation ("api_invite") and role change ("api_role"); and
accepting an invitation whose sender is the caller ("accept": it checks the sender's powers now,
whatever they were when it was sent).

Outcomes: "granted" (the person has, or is invited with, the role), "refused" (403, nothing
changed or recorded), "reauth" (sent to re-authenticate first, nothing changed). A person has no
API token and a key no web session: those cells are absent."""

import re
from urllib.parse import urlencode

import pytest
from django.core import mail
from django.urls import reverse

from activity.audit import SYSTEM
from activity.models import Action, ActivityEntry
from apikeys.auth import builtin_scope_names
from apikeys.models import KeyKind
from apikeys.services import key_create
from conftest import make_user
from scopes.models import Scope
from tenants.grants import (
    SYSTEM_POWERS,
    Powers,
    RoleGrantRefused,
    highest_role,
    person_powers,
    role_grant_check,
)
from tenants.models import Invitation, Membership, Role
from tenants.services import invitation_send

pytestmark = pytest.mark.django_db

ADMIN, DEVELOPER, VIEWER = Role.ADMIN.value, Role.DEVELOPER.value, Role.VIEWER.value
ROLES = [ADMIN, DEVELOPER, VIEWER]
PEOPLE = {"admin": "alice", "admin_stale": "alice", "developer": "dave", "viewer": "bob"}
MEMBER_MANAGE, KEY_READ, SECRET_REVEAL = "portal.member_manage", "portal.key_read", "portal.secret_reveal"


def key_scopes(caller: str) -> list[str]:
    return {
        "key_members": lambda: [MEMBER_MANAGE],
        "key_members_read": lambda: [MEMBER_MANAGE, KEY_READ],
        "key_developer": lambda: [MEMBER_MANAGE, KEY_READ, SECRET_REVEAL, *builtin_scope_names(KeyKind.EMPORIX)],
        "key_all": lambda: list(Scope.objects.offered().values_list("name", flat=True)),
    }[caller]()


def everything(outcome: str) -> dict[str, str]:
    return dict.fromkeys(ROLES, outcome)


GRANTED, REFUSED = everything("granted"), everything("refused")
UP_TO_VIEWER = {ADMIN: "refused", DEVELOPER: "refused", VIEWER: "granted"}
UP_TO_DEVELOPER = {ADMIN: "refused", DEVELOPER: "granted", VIEWER: "granted"}

# caller -> channel -> {role: outcome}
TABLE: dict[str, dict[str, dict[str, str]]] = {
    "admin": {"web_invite": GRANTED, "web_role": GRANTED, "accept": GRANTED},
    # Accepting cannot know whether the sender had re-authenticated: sending checked it.
    "admin_stale": {"web_invite": everything("reauth"), "web_role": everything("reauth"), "accept": GRANTED},
    "developer": {"web_invite": REFUSED, "web_role": REFUSED, "accept": REFUSED},
    "viewer": {"web_invite": REFUSED, "web_role": REFUSED, "accept": REFUSED},
    "key_members": {"api_invite": REFUSED, "api_role": REFUSED, "accept": REFUSED},
    "key_members_read": {"api_invite": UP_TO_VIEWER, "api_role": UP_TO_VIEWER, "accept": UP_TO_VIEWER},
    "key_developer": {"api_invite": UP_TO_DEVELOPER, "api_role": UP_TO_DEVELOPER, "accept": UP_TO_DEVELOPER},
    "key_all": {"api_invite": GRANTED, "api_role": GRANTED, "accept": GRANTED},
}
CASES = [
    (caller, channel, role, outcome)
    for caller, channels in TABLE.items()
    for channel, outcomes in channels.items()
    for role, outcome in outcomes.items()
]
LINK = re.compile(r"token=(akpi_[\w-]+)")
GRANTS = [Action.INVITATION_SENT, Action.MEMBER_CHANGED, Action.INVITATION_ACCEPTED]


def test_the_table_covers_every_caller_channel_and_role():
    web, api = {"web_invite", "web_role"}, {"api_invite", "api_role"}
    for caller, channels in TABLE.items():
        assert set(channels) == (web if caller in PEOPLE else api) | {"accept"}, caller
        assert all(set(outcomes) == set(ROLES) for outcomes in channels.values()), caller


@pytest.fixture
def erin(django_user_model, acme):
    """A viewer of acme, whose role the role-change channels set."""
    user = make_user(django_user_model, "erin@example.com")
    Membership.objects.create(user=user, tenant=acme, role=Role.VIEWER)
    return user


@pytest.fixture
def as_caller(client, reauthenticated, acme, alice, bob, dave):
    """as_caller(name) -> (how the caller is authenticated: the logged-in client, or a key's
    access token; the caller as an invitation's sender: a user or a key)."""
    people = {"alice": alice, "bob": bob, "dave": dave}

    def make(name: str):
        if name in PEOPLE:
            user = people[PEOPLE[name]]
            client.force_login(user)
            if name != "admin_stale":
                reauthenticated(client)
            return client, user
        key, secret = key_create(
            tenant=acme, kind=KeyKind.CUSTOM, name=name, scopes=Scope.objects.filter(name__in=key_scopes(name))
        )
        form = {"grant_type": "client_credentials", "client_id": key.client_id, "client_secret": secret}
        response = client.post("/oauth/token", urlencode(form), content_type="application/x-www-form-urlencoded")
        assert response.status_code == 200, response.content
        return response.json()["access_token"], key

    return make


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def members_url(name: str, **kwargs) -> str:
    return reverse(f"tenants:{name}", kwargs={"code": "acme", **kwargs})


def accepting(client, django_user_model, acme, sender, role: str):
    """An invitation to newbie@example.com with `role` whose sender is `sender` (a user or a
    key), accepted by newbie, logged in; the answer."""
    invitation = invitation_send(tenant=acme, email="newbie@example.com", role=role, accept_url="http://testserver/a/")
    token = LINK.search(mail.outbox[-1].body).group(1)
    if isinstance(sender, django_user_model):
        Invitation.objects.filter(pk=invitation.pk).update(inviter_kind=Invitation.Inviter.PERSON, invited_by=sender)
    else:
        Invitation.objects.filter(pk=invitation.pk).update(inviter_kind=Invitation.Inviter.KEY, invited_by_key=sender)
    client.logout()
    client.force_login(make_user(django_user_model, "newbie@example.com"))
    return client.post(reverse("tenants:invitation_accept"), {"token": token})


@pytest.mark.parametrize(("caller", "channel", "role", "outcome"), CASES, ids=["-".join(case) for case in CASES])
def test_permission_table(client, django_user_model, settings, as_caller, acme, erin, caller, channel, role, outcome):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    auth, sender = as_caller(caller)
    before = set(ActivityEntry.objects.filter(action__in=GRANTS).values_list("pk", flat=True))

    if channel == "web_invite":
        response = client.post(members_url("member_add"), {"email": "newbie@example.com", "role": role})
        got = Invitation.objects.filter(email="newbie@example.com", role=role).exists()
    elif channel == "web_role":
        member = Membership.objects.get(user=erin)
        response = client.post(members_url("member_role", member_id=member.pk), {"role": role})
        got = response.status_code == 302 and Membership.objects.get(user=erin).role == role
    elif channel == "api_invite":
        body = {"email": "newbie@example.com", "role": role}
        response = client.post("/api/v1/invitations/", body, content_type="application/json", **bearer(auth))
        got = response.status_code == 201 and Invitation.objects.filter(email="newbie@example.com").exists()
    elif channel == "api_role":
        body = {"role": role}
        path = "/api/v1/members/erin@example.com/"
        response = client.patch(path, body, content_type="application/json", **bearer(auth))
        got = response.status_code == 200 and Membership.objects.get(user=erin).role == role
    else:
        invitations = Invitation.objects.count()
        response = accepting(client, django_user_model, acme, sender, role)
        got = Membership.objects.filter(tenant=acme, user__email="newbie@example.com", role=role).exists()

    if outcome == "granted":
        assert got, response.content[:2000]
        assert response.status_code in (200, 201, 302)
        return
    assert not Membership.objects.filter(tenant=acme, user__email="newbie@example.com").exists()
    assert Membership.objects.get(user=erin).role == VIEWER
    # A refused grant is not in the activity log (the accept channel's invitation was sent by
    # the system, before the refusal).
    recorded = ActivityEntry.objects.filter(action__in=GRANTS).exclude(pk__in=before)
    assert not recorded.exclude(action=Action.INVITATION_SENT, actor=None, actor_key=None).exists()
    if outcome == "reauth":
        assert response.status_code == 302 and response.url.startswith(reverse("account_reauthenticate"))
        assert not Invitation.objects.filter(email="newbie@example.com").exists()
        return
    assert response.status_code == 403, response.content[:2000]
    if channel.startswith("api"):
        assert response["Content-Type"] == "application/problem+json; charset=utf-8"
        assert response.json()["type"] == "urn:api-key-portal:problem:role-escalation"
        assert not Invitation.objects.filter(email="newbie@example.com").exists()
    elif channel == "web_invite":
        assert not Invitation.objects.filter(email="newbie@example.com").exists()
    elif channel == "accept":
        # Refused, not capped: the invitation stays for an admin to resend or cancel.
        assert Invitation.objects.count() == invitations + 1
        assert "can no longer be accepted" in response.content.decode()


# --- The rule itself ----------------------------------------------------------------------------


def test_a_role_needs_every_power_it_brings():
    viewer_level = Powers(manage_members=True, see_keys=True)
    developer_level = Powers(manage_members=True, see_keys=True, read_every_secret=True)
    assert highest_role(Powers()) is None
    assert highest_role(Powers(see_keys=True, read_every_secret=True, do_everything=True)) is None
    assert highest_role(Powers(manage_members=True)) is None
    assert highest_role(viewer_level) == VIEWER
    assert highest_role(developer_level) == DEVELOPER
    assert highest_role(SYSTEM_POWERS) == ADMIN
    # Everything an admin does but reading every secret: not even developer.
    assert highest_role(Powers(manage_members=True, see_keys=True, do_everything=True)) == VIEWER


def test_acting_on_a_member_needs_the_members_role_too():
    viewer_level = Powers(manage_members=True, see_keys=True, who="The caller", lacking={"read_every_secret": "no"})
    role_grant_check(viewer_level, role=VIEWER, member_role=VIEWER)
    with pytest.raises(RoleGrantRefused, match="cannot change or remove a member who is Developer: no"):
        role_grant_check(viewer_level, role=VIEWER, member_role=DEVELOPER)
    with pytest.raises(RoleGrantRefused, match="cannot give the Developer role: no"):
        role_grant_check(viewer_level, role=DEVELOPER, member_role=VIEWER)


def test_a_persons_powers_follow_role_and_reauthentication():
    assert highest_role(person_powers(ADMIN, reauthenticated=True)) == ADMIN
    assert highest_role(person_powers(ADMIN, reauthenticated=False)) is None
    assert highest_role(person_powers(DEVELOPER, reauthenticated=True)) is None
    assert highest_role(person_powers(VIEWER, reauthenticated=True)) is None
    assert highest_role(person_powers(None, reauthenticated=True)) is None
    with pytest.raises(RoleGrantRefused, match="You cannot manage members: re-authenticate first"):
        role_grant_check(person_powers(ADMIN, reauthenticated=False), role=VIEWER)


def test_a_service_call_by_a_person_or_key_without_their_powers_is_a_bug(acme, alice):
    from activity.audit import Audit

    with pytest.raises(TypeError):
        invitation_send(
            tenant=acme, email="x@example.com", role=VIEWER, accept_url="http://x/", audit=Audit(actor=alice)
        )
    # The system (commands, tests) may: it is no person or key.
    assert invitation_send(tenant=acme, email="x@example.com", role=ADMIN, accept_url="http://x/", audit=SYSTEM)
