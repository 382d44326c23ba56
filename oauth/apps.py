from django.apps import AppConfig


class OauthConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "oauth"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from scopes.models import Scope

        from .services import scope_cache_clear

        # This process forgets its cached built-in scope lists when the catalogue changes;
        # other workers within SCOPE_CACHE_SECONDS.
        post_save.connect(scope_cache_clear, sender=Scope, dispatch_uid="oauth-scope-cache")
        post_delete.connect(scope_cache_clear, sender=Scope, dispatch_uid="oauth-scope-cache-delete")
