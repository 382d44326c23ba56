from django.contrib import admin

from .models import Scope, Service


class ScopeInline(admin.TabularInline):
    model = Scope
    fields = ["name", "description", "storefront", "deprecated"]
    readonly_fields = ["name"]
    extra = 0
    can_delete = False


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "position"]
    search_fields = ["name", "key"]
    inlines = [ScopeInline]


@admin.register(Scope)
class ScopeAdmin(admin.ModelAdmin):
    list_display = ["name", "service", "storefront", "deprecated"]
    list_filter = ["storefront", "deprecated", "service"]
    search_fields = ["name", "description"]
    list_select_related = ["service"]

    def has_delete_permission(self, request, obj=None):
        # Deleting a scope would silently take it from the keys that hold it: deprecate instead.
        return False
