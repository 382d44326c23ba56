"""The portal's apps whose ready() hooks connect receivers of allauth's signals (the tenants app, accounts), installed in the floor for their models alone: the floor runs no allauth."""

from django.apps import AppConfig


class _ModelsOnly(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        pass


class AccountsModelsOnly(_ModelsOnly):
    name = "accounts"


class ActivityModelsOnly(_ModelsOnly):
    name = "activity"


class TenantsModelsOnly(_ModelsOnly):
    name = "tenants"
