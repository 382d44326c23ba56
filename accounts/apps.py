from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self) -> None:
        from kernel.crypto import sealed_register

        from . import checks, signals  # noqa: F401  (registers the system checks, connects the receivers)
        from .sealing import authenticator_key_counts, authenticator_opens, authenticators_reencrypt

        sealed_register(
            "second factor", authenticators_reencrypt, key_counts=authenticator_key_counts, opens=authenticator_opens
        )
