import logging
import os
import socket
import time
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections
from django.utils import timezone

from kernel.workers import StopSignals
from usage.flush import Flusher, prune
from usage.models import FlushWorker

logger = logging.getLogger(__name__)
PRUNE_INTERVAL = 300  # seconds between prunes of the roll-ups past their retention
WORKERS_KEPT_DAYS = 7  # heartbeat rows of workers gone longer than this are deleted


def _heartbeat(worker: str, started: float, calls: int, seconds: float) -> None:
    now = timezone.now()
    FlushWorker.objects.update_or_create(
        worker=worker,
        defaults={"beat_at": now, "last_calls": calls, "last_seconds": seconds},
        create_defaults={
            "started_at": datetime.fromtimestamp(started, tz=UTC),
            "beat_at": now,
            "last_calls": calls,
            "last_seconds": seconds,
        },
    )


class Command(BaseCommand):
    help = (
        "Move the usage counts from Redis into the roll-ups per minute, hour and day and prune "
        "those past their retention: once, or --forever every USAGE_FLUSH_SECONDS (a systemd "
        "service). Needs Redis as the default cache (CACHE_URL); without it each process writes "
        "its own counts and --forever only prunes."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--forever", action="store_true", help="keep flushing until SIGTERM or SIGINT")

    def handle(self, *args, forever: bool, **options) -> None:
        try:
            flusher = Flusher()
        except RuntimeError:
            flusher = None  # no Redis: the processes write their counts themselves
        if not forever:
            calls = flusher.flush() if flusher else 0
            pruned = prune()
            self.stdout.write(f"{calls} call(s) flushed; pruned {pruned}.")
            return
        # SIGTERM or SIGINT: finish the pass in hand, then leave; a second signal ends at once.
        stopping = StopSignals()
        worker, started = f"{socket.gethostname()[:120]}:{os.getpid()}", time.time()
        self.stdout.write("Flushing usage counts until stopped.", ending="\n")
        self.stdout.flush()
        pruned_at: float | None = None
        while not stopping.requested:
            close_old_connections()  # a connection the database dropped is replaced
            began = time.monotonic()
            try:
                calls = flusher.flush() if flusher else 0
                if pruned_at is None or time.monotonic() - pruned_at > PRUNE_INTERVAL:
                    prune()
                    FlushWorker.objects.filter(beat_at__lt=timezone.now() - timedelta(days=WORKERS_KEPT_DAYS)).delete()
                    pruned_at = time.monotonic()
                _heartbeat(worker, started, calls, time.monotonic() - began)
            except DatabaseError as exc:  # an outage: what was taken stays in Redis, applied next pass
                logger.warning("usage flush: database unavailable: %s", type(exc).__name__)
            except Exception as exc:  # Redis down: the counts wait in Redis or in the processes
                logger.warning("usage flush: failed: %s", type(exc).__name__)
            stopping.rest(settings.USAGE_FLUSH_SECONDS)
        self.stdout.write("Stopped.")
