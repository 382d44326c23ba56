from django.apps import AppConfig


class SsoConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "sso"
    verbose_name = "Single sign-on"

    def ready(self) -> None:
        from allauth.account.signals import user_logged_in

        from accounts.stages import mfa_waiver_register
        from kernel.crypto import sealed_register
        from tenants.access import access_guard_register, mfa_voucher_register

        from . import access
        from .services import connection_secret_key_counts, connection_secret_opens, connection_secrets_reencrypt

        access_guard_register(access.sso_guard)
        mfa_voucher_register(access.sso_mfa_voucher)
        mfa_waiver_register(access.sso_mfa_waiver)
        user_logged_in.connect(access.on_logged_in, dispatch_uid="sso-logged-in")
        sealed_register(
            "identity provider client secret",
            connection_secrets_reencrypt,
            key_counts=connection_secret_key_counts,
            opens=connection_secret_opens,
        )
