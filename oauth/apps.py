from django.apps import AppConfig


class OauthConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "oauth"

    def ready(self) -> None:
        from kernel.crypto import sealed_register
        from kernel.health import readiness_register

        from .signing import signing_key_counts, signing_key_opens, signing_key_unreadable, signing_keys_reencrypt

        sealed_register("signing key", signing_keys_reencrypt, key_counts=signing_key_counts, opens=signing_key_opens)
        # /readyz fails on an instance that could not sign a JWT (its keys cannot open the
        # active signing key), rather than every JWT request failing there.
        readiness_register("jwt_signing_key", signing_key_unreadable)
