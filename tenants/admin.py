from django.contrib import admin

from .models import Invitation, Membership, Tenant

# Operators may add memberships here (e.g. a new admin for a tenant whose admins left); role
# changes and removals go through the tenant's Members page, which keeps at least one admin
# and writes the activity log.


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return ["created_at"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "created_at"]
    search_fields = ["code", "name"]
    readonly_fields = ["code", "created_at"]
    inlines = [MembershipInline]

    def has_add_permission(self, request):
        # Tenants are created through the portal or `create_tenant`, which provision keys.
        return False


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "tenant", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "tenant__code"]
    autocomplete_fields = ["user", "tenant"]
    list_select_related = ["user", "tenant"]

    def get_readonly_fields(self, request, obj=None):
        return ["user", "tenant", "role", "created_at"] if obj else ["created_at"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Read-only: invitations are sent, resent and cancelled from the Members page, which mails
    the link and writes the activity log. The token's digest is not shown."""

    list_display = ["email", "tenant", "role", "inviter_kind", "invited_by", "sent_at", "expires_at"]
    list_filter = ["role"]
    search_fields = ["email", "tenant__code"]
    list_select_related = ["tenant", "invited_by"]
    fields = [
        "email",
        "tenant",
        "role",
        "inviter_kind",
        "invited_by",
        "invited_by_key",
        "created_at",
        "sent_at",
        "expires_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
