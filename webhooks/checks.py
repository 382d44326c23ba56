from django.core.checks import Tags, Warning, register
from django.db import DatabaseError


@register(Tags.database)
def check_webhook_secrets_readable(app_configs, databases=None, **kwargs):
    """Signing secrets stored under an encryption key that is no longer configured cannot sign:
    every delivery to those endpoints would fail (run by `check --database default`)."""
    if not databases:
        return []
    from kernel.crypto import EncryptionConfigError, encryption_keys

    from .models import Endpoint

    try:
        configured = [key.id for key in encryption_keys()]
        stranded = Endpoint.objects.exclude(secret_key_id__in=configured).count()
    except (DatabaseError, EncryptionConfigError):
        return []  # not migrated yet, or no keys: apikeys' own checks say so
    if not stranded:
        return []
    return [
        Warning(
            f"{stranded} webhook endpoint(s) have a signing secret under an encryption key that is not configured.",
            hint="Configure that key again and run `reencrypt_webhook_secrets`, or rotate those endpoints' secrets.",
            id="webhooks.W001",
        )
    ]
