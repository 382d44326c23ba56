from django.apps import AppConfig


class UsageConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "usage"
    verbose_name = "Usage per key"

    def ready(self) -> None:
        from . import advisor_hooks

        advisor_hooks.register()
