from django.apps import AppConfig


def _write_canaries(using: str = "default", **_: object) -> None:
    """After migrate: a canary for each configured encryption key (see canary.py)."""
    from .canary import canaries_ensure
    from .crypto import EncryptionConfigError

    try:
        canaries_ensure()
    except EncryptionConfigError:
        pass  # no keys configured (DEBUG): the system check says so


class ApikeysConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apikeys"
    verbose_name = "API keys"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_migrate, post_save

        from scopes.models import Scope

        from . import checks  # noqa: F401  (registers the system check)
        from .auth import scope_cache_clear

        # This process forgets its cached built-in scope lists when the catalogue changes;
        # other workers within auth.SCOPE_CACHE_SECONDS.
        post_save.connect(scope_cache_clear, sender=Scope, dispatch_uid="apikeys-scope-cache")
        post_migrate.connect(_write_canaries, sender=self, dispatch_uid="apikeys-canaries")
        post_delete.connect(scope_cache_clear, sender=Scope, dispatch_uid="apikeys-scope-cache-delete")
