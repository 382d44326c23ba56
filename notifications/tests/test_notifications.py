"""Mails to tenant admins go through notifications.services: to the tenant's admins only, each
their own mail with a plain-text and an HTML part, skipping those who opted out of the kind on
My Account."""

import pytest
from django.urls import reverse

from notifications.kinds import KINDS, WEBHOOK_FAILING
from notifications.models import OptOut
from notifications.services import notify_tenant_admins, preferences_for, preferences_set
from tenants.models import Membership, Role
from webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def context(acme):
    endpoint, _ = endpoint_create(tenant=acme, url="https://hooks.example.com/k", event_types=["key.created"])
    return {"endpoint": endpoint, "endpoint_url": "https://portal.example.com/x/"}


def test_each_admin_gets_a_mail_with_text_and_html_parts(acme, dave, alice, context, smtp_server, settings):
    settings.PORTAL_URL = "https://portal.example.com"
    Membership.objects.filter(tenant=acme, user=dave).update(role=Role.ADMIN)
    assert notify_tenant_admins(tenant=acme, kind=WEBHOOK_FAILING, context=context) == 2
    assert sorted(m["X-Envelope-To"] for m in smtp_server.messages) == [alice.email, dave.email]
    for mail in smtp_server.messages:
        assert mail["To"] == mail["X-Envelope-To"]  # nobody sees the other admins' addresses
        assert mail.get_content_type() == "multipart/alternative"
        text, html = mail.get_body(("plain",)).get_content(), mail.get_body(("html",)).get_content()
        assert "https://hooks.example.com/k" in text and "https://hooks.example.com/k" in html
        assert "https://portal.example.com/accounts/#notifications" in text
        assert 'href="https://portal.example.com/accounts/#notifications"' in html
        assert "<" not in text and html.lstrip().startswith("<!doctype html>")


def test_an_admin_who_opted_out_is_skipped(acme, alice, dave, context, smtp_server):
    Membership.objects.filter(tenant=acme, user=dave).update(role=Role.ADMIN)
    preferences_set(user=alice, wanted=[])
    assert notify_tenant_admins(tenant=acme, kind=WEBHOOK_FAILING, context=context) == 1
    assert [m["X-Envelope-To"] for m in smtp_server.messages] == [dave.email]


def test_nobody_left_sends_nothing(acme, alice, context, mailoutbox):
    preferences_set(user=alice, wanted=[])
    assert notify_tenant_admins(tenant=acme, kind=WEBHOOK_FAILING, context=context) == 0
    assert mailoutbox == []


def test_my_account_lists_the_kinds_and_saves_the_choice(client_for, alice):
    client = client_for(alice)
    page = client.get(reverse("my_account")).content.decode()
    assert 'id="notifications"' in page and WEBHOOK_FAILING.label in page
    assert f'value="{WEBHOOK_FAILING.code}" id="notify-{WEBHOOK_FAILING.code}" checked' in page
    response = client.post(reverse("notifications:preferences"), {})  # every box unticked
    assert response.status_code == 302 and response.url.endswith("#notifications")
    assert list(OptOut.objects.filter(user=alice).values_list("kind", flat=True)) == list(KINDS)
    assert preferences_for(alice) == [(kind, False) for kind in KINDS.values()]
    client.post(reverse("notifications:preferences"), {"kind": [*KINDS, "no-such-kind"]})
    assert not OptOut.objects.filter(user=alice).exists()
    assert f'id="notify-{WEBHOOK_FAILING.code}" checked' in client.get(reverse("my_account")).content.decode()


def test_one_users_choice_is_theirs_alone(alice, dave):
    preferences_set(user=alice, wanted=[])
    assert preferences_for(dave) == [(kind, True) for kind in KINDS.values()]


def test_the_key_hygiene_digest_goes_through_notifications_and_honours_the_opt_out(acme, alice, smtp_server):
    from datetime import timedelta

    from django.utils import timezone

    from apikeys.hygiene import hygiene_run
    from apikeys.models import KeyKind
    from apikeys.services import key_create
    from notifications.kinds import KEY_HYGIENE
    from scopes.models import Scope

    start = timezone.now()
    tax = Scope.objects.filter(name="tax.tax_read")
    key_create(tenant=acme, kind=KeyKind.CUSTOM, name="Orders", scopes=tax, expires_at=start + timedelta(days=10))
    preferences_set(user=alice, wanted=[code for code in KINDS if code != KEY_HYGIENE.code])
    assert hygiene_run(now=start).mails == 0
    assert smtp_server.flushed() == []
    preferences_set(user=alice, wanted=list(KINDS))
    key_create(tenant=acme, kind=KeyKind.CUSTOM, name="Returns", scopes=tax, expires_at=start + timedelta(days=2))
    assert hygiene_run(now=start).mails == 1
    (mail,) = smtp_server.flushed()
    assert mail["Subject"] == "[API Key Portal] 1 key of Acme Corp needs attention"
    assert "Returns" in mail.get_body(("plain",)).get_content()
    assert KEY_HYGIENE.label in mail.get_body(("plain",)).get_content()
    assert "notification settings on My Account" in mail.get_body(("html",)).get_content()


def test_the_key_hygiene_digest_and_leak_alert_have_subjects_in_the_admins_language(acme, alice, mailoutbox):
    from datetime import timedelta

    from django.utils import timezone

    from apikeys.hygiene import hygiene_run
    from apikeys.leaks import _notify_admins
    from apikeys.models import KeyKind
    from apikeys.services import key_create
    from scopes.models import Scope

    start = timezone.now()
    tax = Scope.objects.filter(name="tax.tax_read")
    key, _ = key_create(
        tenant=acme, kind=KeyKind.CUSTOM, name="Orders", scopes=tax, expires_at=start + timedelta(days=2)
    )
    alice.language = "de"
    alice.save(update_fields=["language"])
    hygiene_run(now=start)
    _notify_admins(key, {"source": "GitHub", "url": "https://example.com/leak"}, stopped=True)
    alice.language = "en"
    alice.save(update_fields=["language"])
    _notify_admins(key, {"source": "GitHub", "url": "https://example.com/leak"}, stopped=True)
    # The English digest's subject: test_the_key_hygiene_digest_goes_through_notifications_...
    assert [message.subject for message in mailoutbox if message.to == [alice.email]] == [
        "[API Key Portal] 1 Schlüssel von Acme Corp braucht Aufmerksamkeit",
        "[API Key Portal] Ein Secret von „Orders“ (acme) wurde öffentlich gefunden",
        "[API Key Portal] A secret of “Orders” (acme) was found in public",
    ]
