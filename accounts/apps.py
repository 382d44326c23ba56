from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self) -> None:
        from kernel.crypto import sealed_register

        from . import checks, purposes, signals  # noqa: F401  (registers the system checks, connects the receivers)
        from .sealing import authenticator_key_counts, authenticators_reencrypt

        # Counts only, no `opens`: the canaries prove a key on the client secrets first, and
        # this store is registered before them (INSTALLED_APPS) and would be read row by row.
        sealed_register("second factor", authenticators_reencrypt, key_counts=authenticator_key_counts)
        # What allauth's pages that ask for a re-authentication protect, for its heading.
        purposes.register()
