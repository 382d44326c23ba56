"""The tenant pages in German (issue 23): the Members page with its invitations and policy, the
Tenant List, the removal confirmation, the invitation page and the activity log say everything
of their own in German, in the glossary's terms, and no English word of their interface is left.
The English pages are the other tests' (they assert the English texts)."""

import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from activity.display import details_lines, grace_label
from activity.models import Action, ActivityEntry
from tenants.grants import RoleGrantRefused, person_powers, role_grant_check
from tenants.models import Membership, Role
from tenants.services import invitation_send, member_change_role
from tenants.tests.test_invitations import link_in

pytestmark = pytest.mark.django_db


def german(client, url: str):
    """The page as a German reader gets it (the browser's language, and German active around the
    request as the language middleware makes it)."""
    with translation.override("de"):
        return client.get(url, headers={"accept-language": "de"})


def text(response) -> str:
    """The page's visible words and its attributes a screen reader says (aria-label, title)."""
    html = response.content.decode()
    labels = " ".join(re.findall(r'(?:aria-label|title|data-label)="([^"]*)"', html))
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)) + " " + labels


def assert_german(page: str, present: list[str], absent: list[str]) -> None:
    for words in present:
        assert words in page, f"missing German: {words!r}"
    for words in absent:
        assert not re.search(rf"(?<![\w-]){re.escape(words)}(?![\w-])", page), f"English left: {words!r}"


def test_the_members_page_is_german(client_for, alice, acme):
    invitation_send(tenant=acme, email="new@example.com", role="viewer", accept_url="http://testserver/a/")
    response = german(client_for(alice), reverse("tenants:members", kwargs={"code": "acme"}))
    assert response.status_code == 200
    assert_german(
        text(response),
        present=[
            "Mitglieder",
            "Personen mit Zugang zu Acme Corp",
            "Ihre Rolle: Administrator",
            "Mitglied einladen",
            "Einladung senden",
            "Sicherheitsrichtlinie",
            "Zwei-Faktor-Authentifizierung verlangen",
            "Maximale Laufzeit neuer benutzerdefinierter Schlüssel (Tage)",
            "Offene Einladungen",
            "Eingeladen von",
            "Betrachter",
            "Entwickler",
            "Einladung an new@example.com zurückziehen",
            "(Sie)",
            "API-Schlüssel",
            "Nutzung",
            "Aktivität",
        ],
        absent=[
            "Members",
            "People with access",
            "you are admin",
            "Invite member",
            "Send invitation",
            "Security policy",
            "Save policy",
            "Pending invitations",
            "Invited by",
            "Remove",
            "Resend",
            "Cancel",
            "Change",
            "Viewer",
            "Developer",
            "Admins manage keys",
            "Require two-factor authentication",
            "Key usage",
            "Activity",
            "(you)",
        ],
    )


def test_the_tenant_list_is_german(client_for, alice, acme):
    response = german(client_for(alice), reverse("tenants:list"))
    assert_german(
        text(response),
        present=["Mandanten", "Ihre Mandanten", "Administrator", "2 Schlüssel", "Mandant hinzufügen", "Mandantencode"],
        absent=["Tenants", "Your tenants", "Add tenant", "Tenant code", "Display name", "2 keys"],
    )


def test_the_removal_confirmation_is_german(client_for, alice, bob, acme):
    member = Membership.objects.get(tenant=acme, user=bob)
    url = reverse("tenants:member_remove", kwargs={"code": "acme", "member_id": member.pk})
    assert_german(
        text(german(client_for(alice), url)),
        present=["Mitglied entfernen", "bob@example.com entfernen?", "Die Person verliert sofort den Zugang"],
        absent=["Remove member", "They lose access", "Cancel"],
    )


def test_the_invitation_page_is_german(client, acme):
    with translation.override("de"):
        url = reverse("tenants:invitation_accept") + "?token=ipt_unknown"
    response = german(client, url)
    assert response.status_code == 404
    assert_german(
        text(response),
        present=["Einladung", "Dieser Einladungslink funktioniert nicht"],
        absent=["Invitation", "This invitation link does not work"],
    )


def test_an_invitation_and_its_notice_are_german(client, client_for, alice, acme):
    admin = client_for(alice)
    with translation.override("de"):
        sent = admin.post(
            reverse("tenants:member_add", kwargs={"code": "acme"}),
            {"email": "new@example.com", "role": "viewer"},
            headers={"accept-language": "de"},
            follow=True,
        )
    assert "Einladung an new@example.com gesendet." in sent.content.decode()
    # The invitee has no account: the mail is in the inviter's language.
    message = mail.outbox[-1]
    assert message.subject == "Einladung zu Acme Corp (acme) im API Key Portal"
    assert "alice@example.com lädt Sie in den Mandanten Acme Corp (acme) im API Key Portal ein" in message.body
    assert "Öffnen Sie diesen Link, um anzunehmen:" in message.body
    assert "invites you" not in message.body and "Open this link" not in message.body
    path, _ = link_in(message)
    admin.logout()
    page = text(german(client, path))
    assert_german(
        page,
        present=[
            "Einladung",
            "alice@example.com lädt new@example.com zum Mandanten acme als Betrachter ein.",
            "Die Einladung läuft ab:",
            "Wählen Sie ein Passwort für Ihr Konto new@example.com",
            "Passwort wählen",
            "Passwort wiederholen",
            "Konto erstellen und beitreten",
        ],
        absent=["Invitation", "invites", "The invitation expires", "Choose a password", "Create account and join"],
    )


def test_a_role_grant_refusal_reads_as_german(acme):
    with translation.override("de"), pytest.raises(RoleGrantRefused) as refused:
        role_grant_check(person_powers(Role.ADMIN, reauthenticated=False), role=Role.VIEWER)
    assert str(refused.value) == (
        "Mitglieder zu verwalten ist für Sie nicht möglich: bestätigen Sie zuerst erneut, dass Sie es sind."
    )
    with pytest.raises(RoleGrantRefused) as refused:
        role_grant_check(person_powers(Role.DEVELOPER, reauthenticated=True), role=Role.VIEWER)
    assert str(refused.value) == "You cannot manage members: only admins manage members."


def test_the_activity_log_is_german(client_for, alice, bob, acme):
    member = Membership.objects.get(tenant=acme, user=bob)
    member_change_role(membership=member, role=Role.DEVELOPER)
    response = german(client_for(alice), reverse("activity:list", kwargs={"code": "acme"}))
    assert response.status_code == 200
    assert_german(
        text(response),
        present=[
            "Aktivitätsprotokoll",
            "Mandant erstellt",
            "Schlüssel erstellt",
            "Rolle eines Mitglieds geändert",
            "Vorher: viewer",  # the stored values stay as stored
            "Wann",
            "IP-Adresse",
            "CSV herunterladen",
            "Alle Aktionen",
            "Einträge",
        ],
        absent=[
            "Activity log",
            "Tenant created",
            "Key created",
            "Member role changed",
            "When",
            "IP address",
            "Download CSV",
            "All actions",
            "entries",
            "Filter",
        ],
    )


def test_the_activity_csv_stays_english_for_a_german_reader(client_for, alice, acme):
    response = german(client_for(alice), reverse("activity:csv", kwargs={"code": "acme"}))
    body = response.content.decode()
    assert body.startswith("time,actor,action,key name,client id,details,ip")
    assert "Tenant created" in body and "Mandant erstellt" not in body


def test_activity_details_are_put_in_words_when_shown():
    entry = ActivityEntry(action=Action.KEY_RENEWED, details={"old_secret_stops": "now", "role": "admin"})
    assert details_lines(entry) == ["Old secret stopped working at once", "Role: admin"]
    with translation.override("de"):
        assert details_lines(entry) == ["Altes Secret hat sofort aufgehört zu funktionieren", "Rolle: admin"]
        assert grace_label(3600) == "1 Stunde" and grace_label(7 * 86400) == "7 Tage"
    assert grace_label(3600) == "1 hour" and grace_label(86400) == "24 hours"
