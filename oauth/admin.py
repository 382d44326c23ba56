from django.contrib import admin

from .models import SigningKey

# Tokens are deliberately not in the admin: digests are useless there and rows churn.


@admin.register(SigningKey)
class SigningKeyAdmin(admin.ModelAdmin):
    """Signing keys, read-only: kid, state and dates. The private key (its ciphertext) is not
    a field here; rotate with `manage.py rotate_signing_key`."""

    list_display = ["kid", "state", "algorithm", "created_at", "activated_at", "retired_at", "publish_until"]
    list_filter = ["state"]
    fields = ["kid", "state", "algorithm", "public_jwk", "created_at", "activated_at", "retired_at", "publish_until"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
