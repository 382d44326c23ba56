from django.apps import AppConfig


class AccountsModelsOnly(AppConfig):
    """The accounts app for its user model alone: the floor connects none of its signals
    (they are allauth's, which the floor does not run)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    label = "accounts"

    def ready(self) -> None:
        pass
