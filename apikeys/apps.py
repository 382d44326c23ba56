from django.apps import AppConfig


class ApikeysConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apikeys"
    verbose_name = "API keys"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from kernel.crypto import sealed_register
        from scopes.models import Scope

        from . import checks, receivers  # noqa: F401  (registers the system check, connects receivers)
        from .auth import scope_cache_clear
        from .sealed import secret_key_counts, secret_opens

        # This process forgets its cached built-in scope lists when the catalogue changes;
        # other workers within auth.SCOPE_CACHE_SECONDS.
        post_save.connect(scope_cache_clear, sender=Scope, dispatch_uid="apikeys-scope-cache")
        post_delete.connect(scope_cache_clear, sender=Scope, dispatch_uid="apikeys-scope-cache-delete")
        # The client secrets come first among the stores the canaries ask (registered first:
        # INSTALLED_APPS lists the keys app before the other sealed stores' apps).
        from . import purposes

        # What its actions that ask for a re-authentication protect, for that page's heading.
        purposes.register()
        sealed_register(checks.CLIENT_SECRETS, key_counts=secret_key_counts, opens=secret_opens)
        # The tenant list's counts (a Membership row per tenant of the user).
        from django.db.models import Count, Q

        from tenants.lists import tenant_list_annotate

        from .models import KeyKind

        tenant_list_annotate("key_count", lambda: Count("tenant__apikeys"))
        tenant_list_annotate(
            "custom_count", lambda: Count("tenant__apikeys", filter=Q(tenant__apikeys__kind=KeyKind.CUSTOM))
        )
