import contextlib

from django.apps import AppConfig


def _write_canaries(using: str = "default", **_: object) -> None:
    """After migrate: a canary for each configured encryption key (see canary.py)."""
    from .canary import canaries_ensure
    from .crypto import EncryptionConfigError

    with contextlib.suppress(EncryptionConfigError):  # no keys configured (DEBUG): the system check says so
        canaries_ensure()


class KernelConfig(AppConfig):
    """The infrastructure below every domain app: database helpers, logging, rate limits,
    outages, health, crypto and the encryption canaries. It imports no app of the portal."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "kernel"
    verbose_name = "Kernel"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        # Connects its request signals before the first request, so that every request's
        # after_response jobs wait for its response.
        from . import background  # noqa: F401

        # After every app has migrated (the sealed stores' tables exist by then).
        post_migrate.connect(_write_canaries, dispatch_uid="kernel-canaries")
