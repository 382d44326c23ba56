"""Whether a delivery worker is alive: each worker writes a heartbeat row on every pass of its
loop (`webhooks_deliver --forever`, and once per `--once` run); the Webhooks page says when the
newest was written and warns when none is fresher than WEBHOOKS_WORKER_STALE_MINUTES, with how
many deliveries wait."""

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max, Q
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
class WorkerStatus:
    last_beat: datetime | None  # the newest heartbeat of any worker
    alive: int  # workers with a heartbeat in the last `stale_minutes`
    stale_minutes: int

    @property
    def ok(self) -> bool:
        return self.alive > 0


@dataclass(frozen=True)
class DeliveryStatusReport(WorkerStatus):
    waiting: int = 0  # this tenant's pending deliveries
    due: int = 0  # of which due now (the others wait for a retry)


def worker_status() -> WorkerStatus:
    """One query: the newest heartbeat and how many workers beat lately."""
    minutes = settings.WEBHOOKS_WORKER_STALE_MINUTES
    since = timezone.now() - timedelta(minutes=minutes)
    beats = WorkerHeartbeat.objects.aggregate(last=Max("beat_at"), alive=Count("id", filter=Q(beat_at__gte=since)))
    return WorkerStatus(beats["last"], beats["alive"], minutes)


def delivery_status(tenant: Tenant) -> DeliveryStatusReport:
    """Two queries: the workers, and the tenant's pending deliveries."""
    worker = worker_status()
    pending = Delivery.objects.filter(endpoint__tenant=tenant, status=DeliveryStatus.PENDING).aggregate(
        waiting=Count("id"), due=Count("id", filter=Q(next_attempt_at__lte=timezone.now()))
    )
    return DeliveryStatusReport(
        worker.last_beat, worker.alive, worker.stale_minutes, pending["waiting"], pending["due"]
    )
