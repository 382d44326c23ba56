from django import forms
from django.contrib import admin, messages
from django.db import models

from activity.audit import SYSTEM

from . import services
from .models import ClaimedDomain, Connection


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    list_display = ("tenant", "protocol", "issuer_url", "saml_entity_id", "is_enabled", "updated_at")
    # The secret's ciphertext is never shown; the tenant's admins change the rest on their page.
    exclude = ("secret_ciphertext",)
    readonly_fields = ("secret_key_id", "created_at", "updated_at")
    formfield_overrides = {models.URLField: {"form_class": forms.URLField, "assume_scheme": "https"}}


@admin.action(description="Confirm ownership (an operator's proof)")
def confirm(modeladmin, request, queryset) -> None:
    for claimed in queryset.filter(verified_at__isnull=True):
        try:
            services.domain_verified(claimed=claimed, audit=SYSTEM, proof=ClaimedDomain.Proof.OPERATOR)
        except services.DomainError as exc:
            modeladmin.message_user(request, str(exc), messages.ERROR)


@admin.register(ClaimedDomain)
class ClaimedDomainAdmin(admin.ModelAdmin):
    list_display = ("domain", "tenant", "verified_at", "verified_by")
    list_filter = ("verified_by",)
    search_fields = ("domain", "tenant__code")
    readonly_fields = ("token", "verified_at", "verified_by", "created_at")
    actions = [confirm]
