"""The webhook queue in the operators' /metrics (kernel/metrics.py, docs/metrics.md), read at
scrape time: deliveries waiting, those of them retrying after a failed attempt, how long the
oldest has waited, and the deliveries given up on that are still kept. Nothing per tenant or
endpoint."""

import logging

from django.db import DatabaseError
from django.db.models import Count, Min, Q
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from .models import Delivery, DeliveryStatus

logger = logging.getLogger(__name__)


class WebhookQueueCollector(Collector):
    """Two queries per scrape: the pending deliveries through their partial index
    (webhook_delivery_due), and a count of the failed ones (within WEBHOOKS_RETENTION_DAYS)."""

    def collect(self):
        try:
            pending = Delivery.objects.filter(status=DeliveryStatus.PENDING).aggregate(
                waiting=Count("id"),
                retrying=Count("id", filter=Q(attempts__gt=0)),
                oldest=Min("created_at"),
            )
            failed = Delivery.objects.filter(status=DeliveryStatus.FAILED).count()
        except DatabaseError as exc:  # the scrape still gets every other metric
            logger.warning("metrics: the webhook queue could not be read (%s)", type(exc).__name__)
            return
        age = (timezone.now() - pending["oldest"]).total_seconds() if pending["oldest"] else 0.0
        yield GaugeMetricFamily(
            "portal_webhook_deliveries_pending", "Webhook deliveries not yet made.", value=pending["waiting"]
        )
        yield GaugeMetricFamily(
            "portal_webhook_deliveries_retrying",
            "Pending webhook deliveries whose last attempt failed.",
            value=pending["retrying"],
        )
        yield GaugeMetricFamily(
            "portal_webhook_oldest_pending_age_seconds",
            "How long the oldest pending webhook delivery has waited (0 with none).",
            value=max(age, 0.0),
        )
        yield GaugeMetricFamily(
            "portal_webhook_deliveries_failed",
            "Webhook deliveries given up on after every attempt failed, still kept.",
            value=failed,
        )
