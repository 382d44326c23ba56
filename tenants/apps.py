from django.apps import AppConfig


class TenantsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tenants"

    def ready(self) -> None:
        from accounts.page import my_account_contribute

        from . import (
            purposes,
            receivers,  # noqa: F401  (connects the receivers)
        )
        from .models import Membership

        # What its actions that ask for a re-authentication protect, for that page's heading.
        purposes.register()
        my_account_contribute(
            "tenants", lambda user: {"memberships": Membership.objects.filter(user=user).select_related("tenant")}
        )
