from django.apps import AppConfig


class OauthConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "oauth"

    def ready(self) -> None:
        from kernel.crypto import sealed_register

        from .signing import signing_keys_reencrypt

        sealed_register("signing key", signing_keys_reencrypt)
