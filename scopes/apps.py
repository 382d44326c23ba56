from django.apps import AppConfig


class ScopesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "scopes"
