import uuid

from django.db import models
from django.utils import timezone


class IdempotentResponse(models.Model):
    """The first answer to a POST that carried an `Idempotency-Key`, kept for
    IDEMPOTENCY_LIFETIME so that a retry gets the same answer instead of a second effect.
    Keys are per calling API key. The body may hold a secret (create, renew), so it is stored
    encrypted like secrets are (kernel.crypto, bound to this row)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    caller = models.ForeignKey("apikeys.ApiKey", on_delete=models.CASCADE, related_name="+")
    idempotency_key = models.CharField(max_length=255)
    # What the first request was (method, path, body), so that a key reused for another request
    # is refused rather than answered with an unrelated result.
    fingerprint = models.BinaryField(max_length=32)
    status = models.PositiveSmallIntegerField(null=True)
    location = models.CharField(max_length=500, blank=True)
    ciphertext = models.BinaryField(default=b"")
    encryption_key_id = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["caller", "idempotency_key"], name="idempotency_once_per_caller"),
        ]

    def __str__(self) -> str:
        return f"idempotent response {self.public_id}"

    @property
    def binding(self) -> str:
        return f"idempotency:{self.public_id}"
