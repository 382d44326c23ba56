from django.apps import AppConfig


class ActivityConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "activity"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the receivers)
