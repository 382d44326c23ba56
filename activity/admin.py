from django.contrib import admin

from .models import ActivityEntry


@admin.register(ActivityEntry)
class ActivityEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "tenant", "actor_email", "action", "key_name", "ip_address"]
    list_filter = ["action"]
    search_fields = ["tenant__code", "actor_email", "key_name", "key_client_id"]
    readonly_fields = [f.name for f in ActivityEntry._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
