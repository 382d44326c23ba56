from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "webhooks"

    def ready(self) -> None:
        from activity.signals import activity_recorded
        from kernel.crypto import sealed_register
        from kernel.metrics import scrape_collector_register

        from . import (
            checks,  # noqa: F401  (registers the system check)
            purposes,
        )
        from .metrics import WebhookQueueCollector
        from .outbox import activity_event_record
        from .services import endpoint_secret_key_counts, endpoint_secret_opens, endpoint_secrets_reencrypt

        # What its actions that ask for a re-authentication protect, for that page's heading.
        purposes.register()
        sealed_register(
            "webhook signing secret",
            endpoint_secrets_reencrypt,
            key_counts=endpoint_secret_key_counts,
            opens=endpoint_secret_opens,
        )
        # Every activity entry that makes a webhook event queues it in the entry's transaction.
        activity_recorded.connect(activity_event_record, dispatch_uid="webhooks-outbox")
        # The queue, read on every scrape of /metrics.
        scrape_collector_register("webhook queue", WebhookQueueCollector())
