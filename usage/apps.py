from django.apps import AppConfig


class UsageConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "usage"
    verbose_name = "Usage per key"

    def ready(self) -> None:
        # The keys page shows each key's calls in the last 24 hours (the keys app does not
        # import this one: it offers the column registry).
        from apikeys.columns import KeyColumn, key_column_add

        from .views import key_list_sparks

        key_column_add(KeyColumn("usage", "Calls (24 h)", "usage/_key_spark.html", key_list_sparks))
