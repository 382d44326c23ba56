import logging
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections

from kernel.workers import StopSignals
from webhooks.delivery import deliver_due, events_purge
from webhooks.heartbeat import heartbeat, heartbeats_purge, worker_name

logger = logging.getLogger(__name__)
PURGE_INTERVAL = 3600  # seconds between purges of old events (WEBHOOKS_RETENTION_DAYS)


class Command(BaseCommand):
    help = (
        "Deliver queued webhook events: --once delivers what is due now and exits; --forever keeps "
        "looking (for a systemd service). Any number of workers may run at once."
    )

    def add_arguments(self, parser) -> None:
        mode = parser.add_mutually_exclusive_group(required=True)
        mode.add_argument("--once", action="store_true", help="deliver what is due now, then exit")
        mode.add_argument("--forever", action="store_true", help="keep delivering until SIGTERM or SIGINT")
        parser.add_argument("--batch", type=int, default=10, help="deliveries claimed per transaction (default 10)")

    def handle(self, *args, once: bool, forever: bool, batch: int, **options) -> None:
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        worker = worker_name()
        if once:
            heartbeat(worker)
            done = deliver_due(batch=batch)
            self.stdout.write(f"{done} delivery attempt(s) made.")
            return
        # SIGTERM or SIGINT: finish the delivery in hand, then leave; a second signal ends at once.
        stopping = StopSignals()
        self.stdout.write("Delivering webhook events until stopped.")
        purged_at: float | None = None
        while not stopping.requested:
            close_old_connections()  # a connection the database dropped is replaced
            try:
                heartbeat(worker)  # the Webhooks page's sign that deliveries are being made
                if purged_at is None or time.monotonic() - purged_at > PURGE_INTERVAL:
                    events_purge()
                    heartbeats_purge()
                    purged_at = time.monotonic()
                busy = deliver_due(batch=batch, limit=batch)
            except DatabaseError as exc:  # an outage: wait and try again, as the portal does
                logger.warning("webhook worker: database unavailable: %s", type(exc).__name__)
                busy = 0
            if not busy:
                stopping.rest(settings.WEBHOOKS_POLL_INTERVAL)
        self.stdout.write("Stopped.")
