"""The worker's side of the outbox: claim due deliveries, POST them signed, record each attempt.

Claiming is a short transaction: `SELECT … FOR UPDATE SKIP LOCKED` of due rows (so two workers
never wait for, nor take, the same rows; SQLite has no row locks but takes the database's write
lock when the transaction begins, which serialises claims just as well), then moving their
next_attempt_at a lease (WEBHOOKS_LEASE_SECONDS) ahead. A worker that dies after claiming leaves
rows that are simply due again when the lease ends: no event is lost, and a receiver may get one
twice, always with the same `webhook-id` (at least once; the id is the idempotency key).

Headers follow Standard Webhooks (https://www.standardwebhooks.com/): `webhook-id` (the event's
id), `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,` + base64 HMAC-SHA256 of
`id.timestamp.body` under the endpoint's secret). A 2xx answer is a success; anything else, a
timeout or a connection error is retried after WEBHOOKS_BACKOFF, up to WEBHOOKS_MAX_ATTEMPTS."""

import json
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from kernel import crypto
from kernel.mail import absolute_url
from notifications.kinds import WEBHOOK_FAILING
from notifications.services import notify_tenant_admins

from .addresses import host_allowed
from .models import Attempt, Delivery, DeliveryStatus, Endpoint, Event
from .services import SecretUnreadable, endpoint_secret

logger = logging.getLogger(__name__)
USER_AGENT = "API-Key-Portal-Webhooks/1"


def deliveries_claim(*, limit: int = 10, only: int | None = None) -> list[int]:
    """Claim up to `limit` due deliveries (or the one with pk `only`, if due) for this worker:
    their ids, each now leased and counted as an attempt."""
    now = timezone.now()
    with transaction.atomic():
        due = Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        if only is not None:
            due = due.filter(pk=only)
        ids = list(
            due.select_for_update(skip_locked=True)
            .order_by("next_attempt_at", "id")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            Delivery.objects.filter(pk__in=ids).update(
                next_attempt_at=now + timedelta(seconds=settings.WEBHOOKS_LEASE_SECONDS), attempts=F("attempts") + 1
            )
    return ids


def signed_request(delivery: Delivery, secret: str) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one POST of `delivery`, signed with `secret`."""
    body = json.dumps(delivery.event.payload, separators=(",", ":"), sort_keys=True).encode()
    message_id = str(delivery.event_id)
    timestamp = int(timezone.now().timestamp())
    return body, {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": crypto.webhook_signature(secret, message_id=message_id, timestamp=timestamp, body=body),
    }


@dataclass
class Outcome:
    status_code: int | None = None
    error: str = ""
    duration_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _post(url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    """One POST; never follows redirects (a 3xx is a failure) and reads no more of the answer
    than its status. Errors are named by kind only: the URL may carry a token of the receiver's."""
    started = time.monotonic()
    outcome = Outcome()
    if not host_allowed(urlsplit(url).hostname or ""):
        outcome.error = "address not allowed (not a public address)"
        return outcome
    try:
        with requests.post(
            url, data=body, headers=headers, timeout=settings.WEBHOOKS_TIMEOUT, allow_redirects=False, stream=True
        ) as response:
            outcome.status_code = response.status_code
            if not outcome.ok:
                outcome.error = f"HTTP {response.status_code}"
    except requests.Timeout:
        outcome.error = f"no answer within {settings.WEBHOOKS_TIMEOUT:g} s"
    except requests.ConnectionError:
        outcome.error = "connection failed"
    except requests.RequestException as exc:
        outcome.error = f"request failed ({type(exc).__name__})"
    outcome.duration_ms = round((time.monotonic() - started) * 1000)
    return outcome


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt."""
    steps = settings.WEBHOOKS_BACKOFF
    return timedelta(seconds=steps[min(attempts, len(steps)) - 1])


def delivery_attempt(pk: int) -> Outcome:
    """POST a delivery this worker has claimed, and record the attempt and what follows: done,
    retried after the backoff, or failed for good. Mails the tenant's admins once when an
    endpoint has failed WEBHOOKS_FAILURE_NOTICE_AFTER times in a row."""
    delivery = Delivery.objects.select_related("event", "endpoint__tenant").filter(pk=pk).first()
    if delivery is None:  # its endpoint was removed since the claim
        return Outcome(error="endpoint removed")
    endpoint = delivery.endpoint
    started_at = timezone.now()
    if not endpoint.is_active:
        outcome = Outcome(error="endpoint turned off")
    else:
        try:
            body, headers = signed_request(delivery, endpoint_secret(endpoint))
        except SecretUnreadable:
            outcome = Outcome(error="signing secret unreadable")
        else:
            outcome = _post(endpoint.url, body, headers)
    _record(delivery, outcome, started_at)
    logger.info(
        "webhook delivery %s of event %s to endpoint %s: attempt %d, %s, %d ms",
        delivery.pk,
        delivery.event_id,
        endpoint.public_id,
        delivery.attempts,
        outcome.status_code or outcome.error,
        outcome.duration_ms,
    )
    if not outcome.ok and endpoint.is_active:
        _notify_if_failing(endpoint)
    return outcome


@transaction.atomic
def _record(delivery: Delivery, outcome: Outcome, started_at) -> None:
    now = timezone.now()
    current = Delivery.objects.select_for_update().get(pk=delivery.pk)
    Attempt.objects.create(
        delivery=current,
        number=current.attempts,
        started_at=started_at,
        duration_ms=outcome.duration_ms,
        status_code=outcome.status_code,
        error=outcome.error[:200],
    )
    endpoints = Endpoint.objects.filter(pk=current.endpoint_id)
    if outcome.ok:
        endpoints.update(consecutive_failures=0, failure_notified_at=None)
        current.status, current.finished_at = DeliveryStatus.SUCCEEDED, now
    else:
        if delivery.endpoint.is_active:  # an endpoint that is off is not failing
            endpoints.update(consecutive_failures=F("consecutive_failures") + 1)
        if current.status != DeliveryStatus.PENDING:
            return  # another worker finished it meanwhile (after this one's lease ran out)
        if current.attempts >= settings.WEBHOOKS_MAX_ATTEMPTS or not delivery.endpoint.is_active:
            current.status, current.finished_at = DeliveryStatus.FAILED, now
        else:
            current.next_attempt_at = now + backoff(current.attempts)
    current.save(update_fields=["status", "finished_at", "next_attempt_at"])


def _notify_if_failing(endpoint: Endpoint) -> None:
    # The update is the claim: only the worker that sets failure_notified_at sends the mail.
    told = Endpoint.objects.filter(
        pk=endpoint.pk,
        failure_notified_at__isnull=True,
        consecutive_failures__gte=settings.WEBHOOKS_FAILURE_NOTICE_AFTER,
    ).update(failure_notified_at=timezone.now())
    if not told:
        return
    endpoint.refresh_from_db()
    try:
        page = reverse("webhooks:detail", kwargs={"code": endpoint.tenant.code, "endpoint_id": endpoint.public_id})
        context = {"endpoint": endpoint, "endpoint_url": absolute_url(page)}
        notify_tenant_admins(tenant=endpoint.tenant, kind=WEBHOOK_FAILING, context=context)
    except Exception:
        logger.exception("webhook endpoint %s: failure notice not sent", endpoint.public_id)


def deliver_due(*, batch: int = 10, limit: int | None = None) -> int:
    """Deliver what is due now, a batch at a time, until nothing is (or `limit` deliveries
    were attempted); how many attempts were made."""
    done = 0
    while limit is None or done < limit:
        ids = deliveries_claim(limit=batch if limit is None else min(batch, limit - done))
        if not ids:
            break
        for pk in ids:
            delivery_attempt(pk)
            done += 1
    return done


def events_purge(*, older_than: timedelta | None = None) -> int:
    """Delete events older than WEBHOOKS_RETENTION_DAYS (or `older_than`) with their deliveries
    and attempt logs, unless a delivery of theirs is still pending; how many events went."""
    age = older_than if older_than is not None else timedelta(days=settings.WEBHOOKS_RETENTION_DAYS)
    old = Event.objects.filter(created_at__lt=timezone.now() - age).exclude(deliveries__status=DeliveryStatus.PENDING)
    return old.delete()[1].get(Event._meta.label, 0)
