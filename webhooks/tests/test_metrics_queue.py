"""The webhook queue in /metrics (webhooks/metrics.py): pending, retrying, the oldest pending
delivery's age and the failed ones, read from the database at scrape time."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from apikeys.models import KeyKind
from apikeys.services import key_renew
from webhooks.models import Delivery, DeliveryStatus

pytestmark = pytest.mark.django_db


def queue(client) -> dict[str, float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    return {
        family.name: family.samples[0].value
        for family in text_string_to_metric_families(response.content.decode())
        if family.name.startswith("portal_webhook_")
    }


def test_an_empty_queue_reads_zero(client):
    assert queue(client) == {
        "portal_webhook_deliveries_pending": 0,
        "portal_webhook_deliveries_retrying": 0,
        "portal_webhook_oldest_pending_age_seconds": 0,
        "portal_webhook_deliveries_failed": 0,
    }


def test_pending_retrying_failed_and_the_oldest_age(client, endpoint, acme_secrets):
    key = acme_secrets[KeyKind.EMPORIX][0]
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(4):
            key_renew(key=key)
            clock.shift(timedelta(seconds=10))
        oldest, second, third, _ = Delivery.objects.order_by("created_at")
        Delivery.objects.filter(pk=second.pk).update(attempts=2)  # failed twice, due again later
        Delivery.objects.filter(pk=third.pk).update(
            status=DeliveryStatus.FAILED, attempts=8, finished_at=timezone.now()
        )
        clock.shift(timedelta(seconds=50))  # 90 s after the first was queued
        assert queue(client) == {
            "portal_webhook_deliveries_pending": 3,
            "portal_webhook_deliveries_retrying": 1,
            "portal_webhook_oldest_pending_age_seconds": 90,
            "portal_webhook_deliveries_failed": 1,
        }
        Delivery.objects.filter(pk=oldest.pk).update(status=DeliveryStatus.SUCCEEDED, finished_at=timezone.now())
        assert queue(client)["portal_webhook_oldest_pending_age_seconds"] == 80
