import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy

from kernel.choices import label_of
from tenants.models import Tenant


class Endpoint(models.Model):
    """A tenant's HTTPS URL that receives signed key events. The signing secret is stored
    only encrypted (kernel.crypto, bound to this row), never as plaintext."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="webhook_endpoints")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=100, blank=True)
    event_types = models.JSONField(default=list)  # codes of webhooks.events.EVENT_TYPES
    is_active = models.BooleanField(default=True)
    secret_ciphertext = models.BinaryField(editable=False)
    secret_key_id = models.CharField(max_length=32, editable=False)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)
    secret_revealed_at = models.DateTimeField(null=True, blank=True)  # the last explicit reveal
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Failed attempts since the last success, and when the admins were told it keeps failing.
    consecutive_failures = models.PositiveIntegerField(default=0)
    failure_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.url} ({self.tenant.code})"

    @property
    def binding(self) -> str:
        """What the secret's ciphertext is bound to: this endpoint of this tenant."""
        return f"webhook:{self.tenant_id}:{self.public_id}"


class Event(models.Model):
    """One event in the outbox, written in the transaction of the action it reports. Its id is
    the `webhook-id` of every delivery of it, the receivers' idempotency key. The payload holds
    no secret and no token."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="webhook_events")
    type = models.CharField(max_length=40)
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", gettext_lazy("Pending")  # due at next_attempt_at (also while a worker holds it)
    SUCCEEDED = "succeeded", gettext_lazy("Delivered")
    FAILED = "failed", gettext_lazy("Failed")  # every attempt failed


class Delivery(models.Model):
    """One event to one endpoint. A worker claims a due row by moving next_attempt_at a lease
    ahead (webhooks.delivery); if it dies, the row is simply due again when the lease ends."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=models.Q(status="pending"), name="webhook_delivery_due"),
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_endpoint"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} to {self.endpoint_id}: {self.status}"

    # Shown per row of an endpoint's deliveries: kernel.choices.
    def get_status_display(self) -> object:
        return label_of(DeliveryStatus, self.status)


class Attempt(models.Model):
    """One POST of a delivery: the HTTP status or the error, and how long it took."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["delivery", "number", "id"]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}: {self.status_code or self.error}"

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WorkerHeartbeat(models.Model):
    """A delivery worker's sign of life: one row per worker process (host and process id),
    written on every pass of its loop (webhooks.heartbeat). The Webhooks page reads the newest
    to say whether deliveries are being made at all."""

    worker = models.CharField(max_length=150, unique=True)
    started_at = models.DateTimeField(default=timezone.now)
    beat_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-beat_at"]

    def __str__(self) -> str:
        return f"{self.worker} at {self.beat_at:%Y-%m-%d %H:%M:%S}"
