from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "webhooks"

    def ready(self) -> None:
        from apikeys.crypto import sealed_register

        from . import checks  # noqa: F401  (registers the system check)
        from .services import endpoint_secrets_reencrypt

        sealed_register("webhook signing secret", endpoint_secrets_reencrypt)
