"""The client secrets as a sealed store of the kernel's registry (kernel.crypto.sealed_register):
what the encryption canaries need to prove a key id before trusting it, without the kernel
knowing the secret rows. `reencrypt_secrets` re-encrypts the secrets itself, in batches."""

from django.db.models import Count

from kernel import crypto

from .models import ApiSecret


def secret_key_counts() -> dict[str, int]:
    """Stored client secrets per encryption key id (one grouped query)."""
    rows = ApiSecret.objects.order_by().values_list("encryption_key_id").annotate(count=Count("id"))
    return dict(rows)


def secret_opens(key_id: str) -> bool | None:
    """Whether one stored secret under `key_id` decrypts with the configured key of that id;
    None when none is stored under it."""
    secret = ApiSecret.objects.filter(encryption_key_id=key_id).select_related("key").first()
    return None if secret is None else crypto.opens(secret.ciphertext, key_id=key_id, binding=secret.binding)
