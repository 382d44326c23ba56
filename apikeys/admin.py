from django.contrib import admin

from .models import ApiKey, ApiSecret


class ApiSecretInline(admin.TabularInline):
    """Secret rows without their ciphertext or digest: when, not what."""

    model = ApiSecret
    fields = ["public_id", "encryption_key_id", "created_at", "expires_at", "last_used_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "tenant", "kind", "client_id", "created_at", "renewed_at", "last_used_at"]
    list_filter = ["kind"]
    search_fields = ["name", "client_id", "tenant__code"]
    list_select_related = ["tenant"]
    fields = [
        "tenant",
        "kind",
        "name",
        "client_id",
        "public_id",
        "scopes",
        "token_format",
        "created_at",
        "renewed_at",
        "last_used_at",
    ]
    readonly_fields = ["tenant", "kind", "client_id", "public_id", "created_at", "renewed_at", "last_used_at"]
    filter_horizontal = ["scopes"]
    inlines = [ApiSecretInline]

    def has_add_permission(self, request):
        # Keys are made through the portal, which generates and encrypts their secrets.
        return False

    def has_change_permission(self, request, obj=None):
        # Read-only here: renaming, rescoping and deleting go through the portal's services,
        # which refuse it for the built-in keys and write the activity log.
        return False

    def has_delete_permission(self, request, obj=None):
        return False
