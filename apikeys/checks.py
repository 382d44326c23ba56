from django.conf import settings
from django.core.checks import Error, register

from .crypto import EncryptionConfigError, parse_encryption_keys


@register()
def check_encryption_keys(app_configs, **kwargs):
    """Reject malformed PORTAL_ENCRYPTION_KEYS (the message never shows key material)."""
    raw = settings.PORTAL_ENCRYPTION_KEYS
    if not raw.strip():
        return [
            Error(
                "PORTAL_ENCRYPTION_KEYS is not set: API secrets cannot be stored or shown.",
                hint="Run `python manage.py generate_encryption_key` and put its output in .env.",
                id="apikeys.E001",
            )
        ]
    try:
        parse_encryption_keys(raw)
    except EncryptionConfigError as exc:
        return [Error(f"PORTAL_ENCRYPTION_KEYS is malformed: {exc}.", id="apikeys.E002")]
    return []
