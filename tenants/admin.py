from django.contrib import admin

from .models import Membership, Tenant


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]


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
