from django.apps import AppConfig


class UsageConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "usage"
    verbose_name = "Usage per key"

    def ready(self) -> None:
        from kernel import usage

        from .flush import sink

        # Without a shared cache, each process writes its own counts into the roll-ups.
        usage.sink_set(sink)
