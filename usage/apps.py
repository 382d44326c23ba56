from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class UsageConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "usage"
    verbose_name = "Usage per key"

    def ready(self) -> None:
        # The keys app does not import this one: it offers hooks, which usage fills.
        from apikeys.columns import KeyColumn, key_column_add
        from apikeys.limits import reached_register
        from kernel import usage

        from . import advisor_hooks
        from .flush import sink
        from .limits import rate_limit_reached
        from .views import key_list_sparks

        # Without a shared cache, each process writes its own counts into the roll-ups.
        usage.sink_set(sink)
        # The keys' settings pages show how often each key's rate limit was reached.
        reached_register(rate_limit_reached)
        # The keys page shows each key's calls in the last 24 hours.
        key_column_add(KeyColumn("usage", gettext_lazy("Calls (24 h)"), "usage/_key_spark.html", key_list_sparks))
        # Each key's row and the keys list link to the access advisor.
        advisor_hooks.register()
