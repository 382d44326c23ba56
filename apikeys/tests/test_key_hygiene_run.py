"""The daily key-hygiene run with a moved clock and a real SMTP server (aiosmtpd): expiry and
renew-by reminders once each, expired keys recorded, dormant keys warned about then disabled;
and the tenant policy behind them (maximum key lifetime, maximum secret age)."""

from datetime import timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from activity.models import Action, ActivityEntry
from apikeys.hygiene import hygiene_run
from apikeys.models import ApiKey, KeyKind
from apikeys.services import key_create, key_expiry_set, key_renew
from scopes.models import Scope
from tenants.services import tenant_policy_change


def _at(moment):
    return mock.patch("django.utils.timezone.now", return_value=moment)


def _custom(tenant, name="Orders", **extra):
    return key_create(
        tenant=tenant, kind=KeyKind.CUSTOM, name=name, scopes=Scope.objects.filter(name="tax.tax_read"), **extra
    )


def _bodies(inbox):
    return [message.get_body(("plain",)).get_content() for message in inbox.messages]


def test_expiry_reminders_go_out_once_each_at_14_3_and_1_days(acme, smtp_server):
    start = timezone.now()
    key, _ = _custom(acme, expires_at=start + timedelta(days=20))
    # Runs every 12 hours for 21 days: one mail per threshold, none twice.
    for hours in range(0, 21 * 24, 12):
        hygiene_run(now=start + timedelta(hours=hours))
    bodies = _bodies(smtp_server)
    assert len(bodies) == 4, bodies  # 14, 3, 1 days before, then "stopped working"
    assert all("Orders" in body for body in bodies)
    assert ["expires on" in body for body in bodies] == [True, True, True, False]
    assert "Stopped working" in bodies[3]
    assert all(message["X-Envelope-To"] == "alice@example.com" for message in smtp_server.messages)
    assert all(message.get_body(("html",)) is not None for message in smtp_server.messages)
    assert ActivityEntry.objects.filter(key=key, action=Action.KEY_EXPIRED).count() == 1


def test_a_missed_run_sends_only_the_tightest_reminder(acme, smtp_server):
    start = timezone.now()
    _custom(acme, expires_at=start + timedelta(days=20))
    hygiene_run(now=start + timedelta(days=18, hours=1))  # under 2 days left: the 3-day reminder
    hygiene_run(now=start + timedelta(days=18, hours=2))
    assert len(smtp_server.messages) == 1


def test_extending_a_key_starts_its_reminders_again(acme, smtp_server):
    start = timezone.now()
    key, _ = _custom(acme, expires_at=start + timedelta(days=2))
    hygiene_run(now=start)
    with _at(start + timedelta(hours=1)):
        key_expiry_set(key=key, expires_at=start + timedelta(days=10))
    hygiene_run(now=start + timedelta(days=8))
    assert len(smtp_server.messages) == 2


def test_dormant_keys_are_warned_about_then_disabled(acme, smtp_server):
    tenant_policy_change(tenant=acme, dormant_after_days=30, dormant_disable_after_days=7)
    created = ApiKey.objects.filter(tenant=acme).order_by("pk").first().created_at
    used = ApiKey.objects.get(tenant=acme, kind=KeyKind.STOREFRONT)
    ApiKey.objects.filter(pk=used.pk).update(last_used_at=created + timedelta(days=25))

    report = hygiene_run(now=created + timedelta(days=31))
    assert report.dormant_warnings == 1 and report.disabled == 0  # the Emporix API key only
    assert "will be disabled on" in _bodies(smtp_server)[0]
    assert hygiene_run(now=created + timedelta(days=32)).mails == 0  # warned once
    emporix = ApiKey.objects.get(tenant=acme, kind=KeyKind.EMPORIX)
    assert emporix.disabled_at is None

    report = hygiene_run(now=created + timedelta(days=37, minutes=1))
    assert report.disabled == 1
    emporix.refresh_from_db()
    assert emporix.disabled_at is not None
    assert "Disabled now because nobody used them" in _bodies(smtp_server)[-1]
    entry = ActivityEntry.objects.get(key=emporix, action=Action.KEY_DISABLED)
    assert entry.details["reason"].startswith("unused for 37 days")
    # The storefront key, used on day 25, turns dormant on day 55.
    assert ApiKey.objects.get(pk=used.pk).disabled_at is None


def test_dormant_flag(acme):
    key = ApiKey.objects.select_related("tenant").get(tenant=acme, kind=KeyKind.EMPORIX)
    assert not key.is_dormant()
    assert key.is_dormant(key.created_at + timedelta(days=90))
    assert not key.is_dormant(key.created_at + timedelta(days=89))


def test_maximum_key_lifetime_applies_to_new_custom_keys(acme):
    tenant_policy_change(tenant=acme, key_max_lifetime_days=30)
    key, _ = _custom(acme)
    assert key.expires_at is not None and timedelta(days=29) < key.expires_at - timezone.now() <= timedelta(days=30)
    with pytest.raises(ValueError, match="at most 30 days"):
        _custom(acme, name="Too long", expires_at=timezone.now() + timedelta(days=31))
    with pytest.raises(ValueError, match="at most 30 days"):
        key_expiry_set(key=key, expires_at=timezone.now() + timedelta(days=60))


def test_maximum_secret_age_stops_unrenewed_keys_and_renew_resets_the_clock(acme, client, acme_secrets):
    from urllib.parse import urlencode

    key, secret = acme_secrets["emporix"]
    start = timezone.now()
    with _at(start):
        tenant_policy_change(tenant=acme, secret_max_age_days=10)

    def token(at, plaintext):
        with _at(at):
            return client.post(
                "/oauth/token",
                urlencode({"grant_type": "client_credentials", "client_id": key.client_id, "client_secret": plaintext}),
                content_type="application/x-www-form-urlencoded",
            ).status_code

    assert token(start + timedelta(days=9), secret) == 200
    assert token(start + timedelta(days=10, seconds=1), secret) == 401
    with _at(start + timedelta(days=11)):
        _, _, fresh = key_renew(key=key)
    assert token(start + timedelta(days=20), fresh) == 200
    assert token(start + timedelta(days=21, seconds=1), fresh) == 401


def test_the_policy_form_sets_the_hygiene_fields(client_for, alice, acme):
    client = client_for(alice)
    response = client.post(
        reverse("tenants:policy", kwargs={"code": "acme"}),
        {
            "key_max_lifetime_days": "365",
            "secret_max_age_days": "",
            "dormant_after_days": "60",
            "dormant_disable_after_days": "14",
        },
    )
    assert response.status_code == 302
    acme.refresh_from_db()
    assert (
        acme.key_max_lifetime_days,
        acme.secret_max_age_days,
        acme.dormant_after_days,
        acme.dormant_disable_after_days,
    ) == (
        365,
        None,
        60,
        14,
    )
    bad = client.post(reverse("tenants:policy", kwargs={"code": "acme"}), {"dormant_after_days": "0"})
    assert bad.status_code == 400
    assert "greater than or equal to 1" in bad.content.decode()
