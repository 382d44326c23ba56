from django.contrib import admin

from .models import Delivery, Endpoint, Event


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    # Never the secret's ciphertext.
    list_display = ["url", "tenant", "is_active", "consecutive_failures", "created_at"]
    list_filter = ["is_active"]
    fields = ["tenant", "url", "description", "event_types", "is_active", "consecutive_failures", "created_at"]
    readonly_fields = ["tenant", "created_at", "consecutive_failures"]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["id", "type", "tenant", "created_at"]
    list_filter = ["type"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["event", "endpoint", "status", "attempts", "next_attempt_at"]
    list_filter = ["status"]
