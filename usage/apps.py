from django.apps import AppConfig


class UsageConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "usage"
    verbose_name = "Usage per key"

    def ready(self) -> None:
        from apikeys.limits import reached_register

        from .limits import rate_limit_reached

        # The keys' settings pages show how often each key's rate limit was reached.
        reached_register(rate_limit_reached)
