"""Issue 18, abuse: any logged-in user, a viewer included, could add tenants with any name
(which lands in invitation mail subjects) and mail invitations to any address without a limit.
Now who may add tenants is TENANT_CREATORS, tenants added and invitations mailed have hourly
limits (429 with Retry-After, on the page or as an RFC 9457 problem), and a tenant's name is
one line of visible text without a web address, and is cleaned wherever a mail carries it."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from api.tests.conftest import token_for
from apikeys.models import KeyKind
from apikeys.services import key_create
from conftest import PASSWORD, run_manage
from kernel import crypto
from kernel.mail import one_line
from scopes.models import Scope
from tenants.models import Invitation, Membership, Role, Tenant
from tenants.services import invitation_send

pytestmark = pytest.mark.django_db

LIST = reverse("tenants:list")
# Inviting a viewer needs what a viewer can do (tenants.grants): reading the keys.
MEMBERS = ["portal.member_read", "portal.member_manage", "portal.key_read"]


def add_tenant(client, code: str, name: str = "A shop"):
    return client.post(LIST, {"code": code, "name": name})


def invite(client, email: str, code: str = "acme"):
    return client.post(reverse("tenants:member_add", kwargs={"code": code}), {"email": email, "role": "developer"})


def assert_limited(response) -> int:
    """A 429 page or problem with a whole number of seconds to wait; that number."""
    assert response.status_code == 429, response.content[:500]
    wait = int(response["Retry-After"])
    assert 1 <= wait <= 3600
    return wait


# --- Who may add tenants ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("creators", "allowed"),
    [
        ("staff-and-admins", {"alice", "staff"}),
        ("staff", {"staff"}),
        ("everyone", {"alice", "bob", "dave", "nobody", "staff"}),
    ],
)
def test_who_may_add_a_tenant(client, acme, django_user_model, settings, creators, allowed):
    settings.TENANT_CREATORS = creators
    people = {
        "alice": User.objects.get(email="alice@example.com"),  # admin of acme
        "dave": User.objects.get(email="dave@example.com"),  # developer in acme
        "bob": User.objects.get(email="bob@example.com"),  # viewer in acme
        "nobody": django_user_model.objects.create_user(email="nobody@example.com", password=PASSWORD),
        "staff": django_user_model.objects.create_user(email="ops@example.com", password=PASSWORD, is_staff=True),
    }
    for index, (name, user) in enumerate(people.items()):
        client.force_login(user)
        page = client.get(LIST).content.decode()
        response = add_tenant(client, f"shop{index}")
        if name in allowed:
            assert 'id="add-tenant"' in page, name
            assert response.status_code == 302, name
            assert Membership.objects.get(user=user, tenant__code=f"shop{index}").role == Role.ADMIN
        else:
            assert 'id="add-tenant"' not in page, name
            assert response.status_code == 403, name
            assert not Tenant.objects.filter(code=f"shop{index}").exists()


def test_a_viewer_cannot_add_a_tenant_by_default(client_for, bob, acme):
    response = add_tenant(client_for(bob), "bobshop")
    assert response.status_code == 403
    assert not Tenant.objects.filter(code="bobshop").exists()


def test_an_unknown_tenant_creators_value_stops_the_portal(tmp_path):
    env = {
        "DEBUG": "on",
        "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        "TENANT_CREATORS": "admins",
    }
    result = run_manage(["check"], env)
    assert result.returncode != 0
    assert "TENANT_CREATORS must be one of staff-and-admins, staff, everyone, not 'admins'" in result.stderr


# --- Hourly limits ------------------------------------------------------------------------------


def test_tenants_a_person_adds_are_limited_per_hour(client_for, alice, charlie, acme, globex, settings):
    settings.TENANT_CREATION_LIMIT_PER_USER = 2
    client = client_for(alice)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert [add_tenant(client, code).status_code for code in ("shopa", "shopb")] == [302, 302]
        refused = add_tenant(client, "shopc", "Third")
        assert_limited(refused)
        body = refused.content.decode()
        assert "added the most tenants allowed in an hour" in body
        assert 'value="shopc"' in body  # what was typed is kept
        assert not Tenant.objects.filter(code="shopc").exists()
        # Another person has a limit of their own.
        assert add_tenant(client_for(charlie), "charlies").status_code == 302
        # The next window.
        clock.shift(timedelta(seconds=settings.ABUSE_LIMIT_WINDOW))
        assert add_tenant(client_for(alice), "shopc").status_code == 302
        assert Tenant.objects.filter(code="shopc").exists()


def test_invitations_a_person_sends_are_limited_per_hour(client_for, alice, acme, settings, mailoutbox):
    settings.INVITATION_LIMIT_PER_SENDER = 3
    client = client_for(alice)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert [invite(client, f"p{n}@example.com").status_code for n in range(3)] == [302] * 3
        refused = invite(client, "p3@example.com")
        assert_limited(refused)
        assert "The most invitation mails allowed in an hour have been sent" in refused.content.decode()
        assert len(mailoutbox) == 3
        assert not Invitation.objects.filter(email="p3@example.com").exists()
        # A resend mails too, and counts.
        invitation = Invitation.objects.get(email="p0@example.com")
        resend = reverse("tenants:invitation_resend", kwargs={"code": "acme", "invitation_id": invitation.public_id})
        refused = client.post(resend)
        assert_limited(refused)
        assert "The most invitation mails allowed" in refused.content.decode()
        assert len(mailoutbox) == 3
        clock.shift(timedelta(seconds=settings.ABUSE_LIMIT_WINDOW))
        client = client_for(alice)  # re-authenticated: an hour later the last one is too old
        assert invite(client, "p3@example.com").status_code == 302
        assert client.post(resend).status_code == 302
        assert len(mailoutbox) == 5


def test_invitations_are_limited_per_tenant_across_senders_and_the_api(
    client_for, client, alice, bob, acme, settings, mailoutbox, django_user_model
):
    settings.INVITATION_LIMIT_PER_SENDER = 100
    settings.INVITATION_LIMIT_PER_TENANT = 3
    second_admin = django_user_model.objects.create_user(email="erin@example.com", password=PASSWORD)
    Membership.objects.create(user=second_admin, tenant=acme, role=Role.ADMIN)
    assert invite(client_for(alice), "a1@example.com").status_code == 302
    assert invite(client_for(second_admin), "a2@example.com").status_code == 302
    key, secret = key_create(
        tenant=acme, kind=KeyKind.CUSTOM, name="HR sync", scopes=Scope.objects.filter(name__in=MEMBERS)
    )
    token = token_for(client, key, secret)
    body = {"email": "a3@example.com", "role": "viewer"}
    created = client.post(
        "/api/v1/invitations/", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert created.status_code == 201
    refused = client.post(
        "/api/v1/invitations/",
        {"email": "a4@example.com", "role": "viewer"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert_limited(refused)
    assert refused["Content-Type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["type"] == "urn:api-key-portal:problem:limit-reached"
    assert problem["status"] == 429
    assert "invitation mails" in problem["detail"]
    assert not Invitation.objects.filter(email="a4@example.com").exists()
    assert invite(client_for(alice), "a5@example.com").status_code == 429
    assert len(mailoutbox) == 3


def test_an_api_key_has_a_sender_limit_of_its_own(client, acme, settings, mailoutbox):
    settings.INVITATION_LIMIT_PER_SENDER = 2
    tokens = []
    for name in ("one", "two"):
        key, secret = key_create(
            tenant=acme, kind=KeyKind.CUSTOM, name=name, scopes=Scope.objects.filter(name__in=MEMBERS)
        )
        tokens.append(token_for(client, key, secret))

    def api_invite(token: str, email: str):
        return client.post(
            "/api/v1/invitations/",
            {"email": email, "role": "viewer"},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )

    assert [api_invite(tokens[0], f"k{n}@example.com").status_code for n in range(3)] == [201, 201, 429]
    assert api_invite(tokens[1], "k3@example.com").status_code == 201


# --- The tenant's name -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("Acme\r\nBcc: victim@example.com", "one line of visible text"),
        ("Acme\tCorp", "one line of visible text"),
        ("Acme\u202eevil", "one line of visible text"),  # right-to-left override
        ("Acme\u200b", "one line of visible text"),  # zero-width space
        ("Acme\x00", None),  # Django refuses NUL itself
        ("Acme: your account is locked, see https://evil.example/login", "web address"),
        ("Verify at www.evil.example", "web address"),
        ("Acme evil.example/login", "web address"),
        ("javascript:alert(1)", "web address"),
    ],
)
def test_a_name_that_would_hijack_a_mail_is_refused(client_for, alice, acme, name, error):
    response = add_tenant(client_for(alice), "shopx", name)
    assert response.status_code == 400
    if error:
        assert error in response.content.decode()
    assert not Tenant.objects.filter(code="shopx").exists()


@pytest.mark.parametrize(
    ("name", "stored"),
    [("  Acme   Corp  ", "Acme Corp"), ("Booking.com", "Booking.com"), ("Café\u00a0Noir", "Café Noir")],
)
def test_ordinary_names_are_kept_with_their_spaces_collapsed(client_for, alice, acme, name, stored):
    assert add_tenant(client_for(alice), "shopy", name).status_code == 302
    assert Tenant.objects.get(code="shopy").name == stored


def test_the_operator_api_refuses_such_a_name_as_a_problem(client, settings):
    operator = Tenant.objects.create(code="operator", name="Operator", is_operator=True)
    key, secret = key_create(
        tenant=operator, kind=KeyKind.CUSTOM, name="Platform", scopes=Scope.objects.filter(name="portal.tenant_manage")
    )
    token = token_for(client, key, secret)
    response = client.post(
        "/api/v1/tenants/",
        {"code": "shopz", "name": "Shop\nZ", "admin_email": "z@example.com"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 400
    assert "name" in response.json()["errors"]


def test_an_existing_name_with_line_breaks_is_one_bounded_line_in_the_invitation(acme, smtp_server):
    # Names stored before the check (or through the admin): the mail cleans them and cuts them.
    Tenant.objects.filter(pk=acme.pk).update(name="Acme\r\nBcc: victim@example.com\u202e" + "x" * 60)
    acme.refresh_from_db()
    invitation_send(tenant=acme, email="new@example.com", role="viewer", accept_url="https://portal.example.com/a/")
    (message,) = smtp_server.messages
    subject = str(message["Subject"]).strip()  # a long subject is folded onto a second line
    assert "\n" not in subject and "\r" not in subject and "\u202e" not in subject
    assert subject.startswith("Invitation to Acme Bcc: victim@example.com")
    assert "…" in subject and len(subject) < 120
    assert message["X-Envelope-To"] == "new@example.com"  # no other recipient
    assert message["Bcc"] is None
    text = message.get_body(("plain",)).get_content()
    assert "to the tenant Acme Bcc: victim@example.com" in text


def test_notification_subjects_are_one_bounded_line(acme, alice):
    from notifications.kinds import KINDS
    from notifications.services import render_mail

    kind = next(iter(KINDS.values()))
    mail_ = render_mail(
        kind=kind,
        to=alice.email,
        context={"tenant": acme},
        template="notifications/webhook_failing",
        subject="Keys of Acme\r\nBcc: x@example.com\u200b" + "y" * 300,
    )
    assert "\n" not in mail_.subject and "\u200b" not in mail_.subject
    assert len(mail_.subject) <= len("[API Key Portal] ") + 150


def test_one_line():
    assert one_line(" a\r\n b\t\tc\u2028d\u202e\u200be ") == "a b c de"
    assert one_line("x" * 10, 5) == "xxxx…"
    assert one_line("Café\u00a0Noir") == "Café Noir"


# --- make run's demo ------------------------------------------------------------------------------


def test_make_runs_env_lets_everyone_add_tenants_and_says_so(tmp_path):
    import subprocess
    import sys

    from conftest import ROOT

    env_file = tmp_path / ".env"
    subprocess.run([sys.executable, "bin/write-env", str(env_file)], cwd=ROOT, check=True, capture_output=True)
    text = env_file.read_text()
    assert re.search(r"^TENANT_CREATORS=everyone$", text, re.M)
    assert "# The demo lets anyone who can log in add tenants." in text
    written = dict(re.findall(r"^([A-Z_]+)=(.*)$", text, re.M))
    result = run_manage(
        ["shell", "-v", "0", "-c", "from django.conf import settings; print(settings.TENANT_CREATORS)"],
        {**written, "DEBUG": "off", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"},
    )
    assert result.stdout.strip() == "everyone", result.stderr


def test_setup_demo_prints_who_may_add_tenants(capsys, tmp_path, settings):
    from django.core.management import call_command

    settings.TENANT_CREATORS = "everyone"
    call_command("setup_demo", env_file=str(tmp_path / ".env"))
    assert "Adding tenants: TENANT_CREATORS=everyone. Anyone who can log in may add tenants." in capsys.readouterr().out


def test_invitation_tokens_stay_digests(client_for, alice, acme):
    # The limits change nothing of how an invitation is stored.
    invite(client_for(alice), "digest@example.com")
    token = re.search(r"token=(akpi_[\w-]+)", mail.outbox[0].body).group(1)
    assert Invitation.objects.get(email="digest@example.com").token_digest == crypto.digest(token)
