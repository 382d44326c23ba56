from django.db import models
from django.utils import timezone


class EncryptionCanary(models.Model):
    """A known value sealed under one encryption key (kernel.canary): lets every instance
    tell whether its configured keys are the ones the stored secrets were written with."""

    key_id = models.CharField(max_length=32, unique=True, editable=False)
    ciphertext = models.BinaryField(editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        # The table was created by the keys app before the kernel held the canary; it stays.
        db_table = "apikeys_encryptioncanary"

    def __str__(self) -> str:
        return f"canary of encryption key {self.key_id}"
