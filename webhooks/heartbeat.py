"""Whether a delivery worker is alive: each worker writes a heartbeat row on every pass of its
loop (`webhooks_deliver --forever`, and once per `--once` run); the Webhooks page says when the
newest was written and warns when none is fresher than WEBHOOKS_WORKER_STALE_MINUTES, with how
many deliveries wait."""

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from tenants.models import Tenant

from .models import Delivery, DeliveryStatus, WorkerHeartbeat

KEEP = timedelta(days=7)  # rows of workers gone longer than this are purged


def worker_name() -> str:
    """This process as a worker: host name and process id."""
    return f"{socket.gethostname()[:120]}:{os.getpid()}"


def heartbeat(worker: str) -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        worker=worker, defaults={"beat_at": now}, create_defaults={"started_at": now, "beat_at": now}
    )


def heartbeats_purge() -> int:
    return WorkerHeartbeat.objects.filter(beat_at__lt=timezone.now() - KEEP).delete()[0]


@dataclass(frozen=True)
class DeliveryStatusReport:
    last_beat: datetime | None  # the newest heartbeat of any worker
    alive: int  # workers with a heartbeat in the last `stale_minutes`
    stale_minutes: int
    waiting: int  # this tenant's pending deliveries
    due: int  # of which due now (the others wait for a retry)

    @property
    def ok(self) -> bool:
        return self.alive > 0


def delivery_status(tenant: Tenant) -> DeliveryStatusReport:
    now = timezone.now()
    minutes = settings.WEBHOOKS_WORKER_STALE_MINUTES
    beats = WorkerHeartbeat.objects.order_by("-beat_at").values_list("beat_at", flat=True)
    recent = list(beats.filter(beat_at__gte=now - timedelta(minutes=minutes))[:100])
    last = recent[0] if recent else beats.first()
    pending = Delivery.objects.filter(endpoint__tenant=tenant, status=DeliveryStatus.PENDING)
    waiting = pending.count()
    due = pending.filter(next_attempt_at__lte=now).count() if waiting else 0
    return DeliveryStatusReport(last, len(recent), minutes, waiting, due)
