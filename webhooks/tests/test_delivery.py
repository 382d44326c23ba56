"""Delivery to a real local receiver: Standard Webhooks headers and signatures (checked by the
`standardwebhooks` package as they arrive), retries with backoff after failures and timeouts on
a moved clock, every attempt logged, failure for good after WEBHOOKS_MAX_ATTEMPTS, and the
"keeps failing" notice to the tenant's admins, once."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from apikeys.models import KeyKind
from apikeys.services import key_renew
from notifications.services import preferences_set
from webhooks.delivery import deliver_due, deliveries_claim, delivery_attempt, events_purge
from webhooks.models import Attempt, Delivery, DeliveryStatus, Event
from webhooks.services import endpoint_secret_rotate

from .conftest import HOLD  # noqa: F401  (the receiver's vocabulary)

pytestmark = pytest.mark.django_db


@pytest.fixture
def renewed(endpoint, acme_secrets):
    """One queued key.renewed event for the endpoint."""
    key_renew(key=acme_secrets[KeyKind.EMPORIX][0])
    return Event.objects.get()


def test_it_posts_the_event_signed_with_standard_webhooks_headers(receiver, endpoint, renewed):
    assert deliver_due() == 1
    (got,) = receiver.received
    assert got.verified, got.problem
    assert got.headers["webhook-id"] == str(renewed.id)
    assert abs(int(got.headers["webhook-timestamp"]) - timezone.now().timestamp()) < 5
    assert got.headers["webhook-signature"].startswith("v1,")
    assert got.headers["content-type"] == "application/json"
    assert got.payload == renewed.payload
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SUCCEEDED, 1)
    (attempt,) = Attempt.objects.all()
    assert (attempt.number, attempt.status_code, attempt.error) == (1, 200, "")


def test_a_signature_under_another_secret_does_not_verify(receiver, endpoint, renewed):
    """The check is real: the receiver still holds the old secret after a rotation."""
    endpoint_secret_rotate(endpoint=endpoint)
    deliver_due()
    (got,) = receiver.received
    assert not got.verified and "signature" in got.problem.lower()


def test_the_management_command_delivers_what_is_due(receiver, endpoint, renewed, capsys):
    call_command("webhooks_deliver", "--once")
    assert "1 delivery attempt(s) made." in capsys.readouterr().out
    assert receiver.ids() == [str(renewed.id)]


def test_failures_are_retried_after_the_backoff_and_logged(receiver, endpoint, renewed, settings):
    settings.WEBHOOKS_TIMEOUT = 0.5
    settings.WEBHOOKS_BACKOFF = [5, 30, 120]
    receiver.answer(500, ("sleep", 1.5), 200)
    start = timezone.now()
    with time_machine.travel(start, tick=True) as clock:
        assert deliver_due() == 1  # 500
        delivery = Delivery.objects.get()
        assert delivery.status == DeliveryStatus.PENDING
        assert timedelta(seconds=4) < delivery.next_attempt_at - timezone.now() <= timedelta(seconds=5)
        assert deliver_due() == 0  # not due yet
        clock.shift(timedelta(seconds=5))
        assert deliver_due() == 1  # times out
        delivery.refresh_from_db()
        assert timedelta(seconds=29) < delivery.next_attempt_at - timezone.now() <= timedelta(seconds=30)
        clock.shift(timedelta(seconds=29))
        assert deliver_due() == 0
        clock.shift(timedelta(seconds=1))
        assert deliver_due() == 1  # 200
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SUCCEEDED, 3)
    log = list(delivery.attempt_log.values_list("number", "status_code", "error"))
    assert log == [(1, 500, "HTTP 500"), (2, None, "no answer within 0.5 s"), (3, 200, "")]
    assert all(attempt.duration_ms > 0 for attempt in delivery.attempt_log.all()[1:2])
    assert len({r.id for r in receiver.received}) == 1 and all(r.verified for r in receiver.received)


def test_a_refused_connection_is_an_attempt_too(endpoint, renewed):
    endpoint.url = "http://127.0.0.1:9/closed"
    endpoint.save()
    deliver_due()
    (attempt,) = Attempt.objects.all()
    assert (attempt.status_code, attempt.error) == (None, "connection failed")


def test_a_redirect_is_not_followed_and_counts_as_a_failure(receiver, endpoint, renewed):
    receiver.answer(302)
    deliver_due()
    assert Attempt.objects.get().error == "HTTP 302"
    assert Delivery.objects.get().status == DeliveryStatus.PENDING


def _fail_until_given_up(receiver, settings, attempts: int) -> None:
    settings.WEBHOOKS_BACKOFF = [1]
    settings.WEBHOOKS_MAX_ATTEMPTS = attempts
    receiver.answer(*[503] * attempts)
    # A clock that moves only when shifted: on a busy machine a ticking one could pass the
    # 1 s backoff inside one deliver_due(), which then makes two attempts.
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(attempts):
            assert deliver_due() == 1
            clock.shift(timedelta(seconds=1))


def test_after_the_last_attempt_the_delivery_has_failed(receiver, endpoint, renewed, settings):
    _fail_until_given_up(receiver, settings, attempts=3)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 3)
    assert delivery.finished_at is not None
    assert deliver_due() == 0
    assert len(receiver.received) == 3 and set(receiver.ids()) == {str(renewed.id)}


def test_admins_are_told_once_that_an_endpoint_keeps_failing(receiver, endpoint, renewed, settings, smtp_server, alice):
    settings.WEBHOOKS_FAILURE_NOTICE_AFTER = 2
    settings.PORTAL_URL = "https://portal.example.com"
    _fail_until_given_up(receiver, settings, attempts=4)
    (mail,) = smtp_server.messages
    assert mail["X-Envelope-To"] == alice.email  # acme's one admin, not bob or dave
    assert mail["Subject"] == "[API Key Portal] A webhook endpoint of Acme Corp keeps failing"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    page = f"https://portal.example.com/tenants/acme/webhooks/{endpoint.public_id}/"
    for part in (text, html):
        assert receiver.url in part and page in part and "My Account" in part
        assert "whsec_" not in part
    assert "failed 2 times in a row" in text
    # A success resets it: the next run of failures is reported again.
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 4 and endpoint.failure_notified_at is not None
    key_renew(key=renewed.tenant.apikeys.get(kind=KeyKind.EMPORIX))
    deliver_due()
    endpoint.refresh_from_db()
    assert (endpoint.consecutive_failures, endpoint.failure_notified_at) == (0, None)


def test_an_admin_who_opted_out_gets_no_failure_notice(receiver, endpoint, renewed, settings, smtp_server, alice):
    settings.WEBHOOKS_FAILURE_NOTICE_AFTER = 1
    preferences_set(user=alice, wanted=[])
    _fail_until_given_up(receiver, settings, attempts=2)
    assert smtp_server.flushed() == []
    assert Delivery.objects.get().status == DeliveryStatus.FAILED


def test_the_body_sent_is_the_stored_payload_and_holds_no_secret(receiver, endpoint, acme_secrets):
    key, plaintext = acme_secrets[KeyKind.EMPORIX]
    _, _, new_plaintext = key_renew(key=key)
    deliver_due()
    (got,) = receiver.received
    body = got.body.decode()
    assert plaintext not in body and new_plaintext not in body and receiver.secret not in body
    assert json.loads(body)["key"]["client_id"] == key.client_id


def test_the_documented_verification_example_accepts_a_delivery_and_refuses_a_forgery(receiver, endpoint, renewed):
    import re

    from conftest import ROOT

    source = re.search(r"```python\n(import base64.*?)```", (ROOT / "docs/webhooks.md").read_text(), re.S).group(1)
    namespace: dict = {}
    exec(source, namespace)
    deliver_due()
    (got,) = receiver.received
    assert namespace["verify"](receiver.secret, got.headers, got.body)
    assert not namespace["verify"](receiver.secret, got.headers, got.body + b" ")


def test_old_finished_events_are_purged_with_their_logs_pending_ones_kept(receiver, endpoint, acme_secrets, settings):
    key = acme_secrets[KeyKind.EMPORIX][0]
    with time_machine.travel(timezone.now() - timedelta(days=31), tick=False):
        key_renew(key=key)  # delivered below
        key_renew(key=key)  # never delivered: still pending
    key_renew(key=key)  # recent
    delivered = Delivery.objects.order_by("created_at").first()
    receiver.answer(200)
    assert deliveries_claim(limit=1) == [delivered.pk]
    delivery_attempt(delivered.pk)
    assert Attempt.objects.count() == 1
    assert events_purge() == 1
    assert not Delivery.objects.filter(pk=delivered.pk).exists() and not Attempt.objects.exists()
    assert Event.objects.count() == 2 and Delivery.objects.filter(status=DeliveryStatus.PENDING).count() == 2


def test_a_delivery_whose_endpoint_was_removed_after_the_claim_is_skipped(receiver, endpoint, renewed):
    from webhooks.services import endpoint_delete

    (claimed,) = deliveries_claim()
    endpoint_delete(endpoint=endpoint)
    assert delivery_attempt(claimed).error == "endpoint removed"
    assert receiver.received == [] and not Delivery.objects.exists()


def test_logs_name_ids_never_the_secret_or_the_urls_query(receiver, endpoint, renewed, caplog, settings):
    endpoint.url = receiver.url + "?token=receivers-own-credential"
    endpoint.save()
    settings.WEBHOOKS_FAILURE_NOTICE_AFTER = 1
    receiver.answer(500)
    with caplog.at_level("DEBUG"):
        deliver_due()
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert str(renewed.id) in text and str(endpoint.public_id) in text and "500" in text
    assert "receivers-own-credential" not in text and receiver.secret not in text and "whsec_" not in text
    assert "receivers-own-credential" not in Attempt.objects.get().error
