"""Shapes of the management API's requests and answers. Request serializers are strict:
unknown fields are refused, every string and list is bounded. What a value must be beyond its
shape (a free name, a scope of the catalogue, a pending invitation) is the UI's form's rule,
applied by the views through the same forms."""

from typing import Any

from django.core.validators import RegexValidator
from rest_framework import serializers

from apikeys.forms import MAX_POSTED_SCOPES
from apikeys.models import (
    DESCRIPTION_MAX_LENGTH,
    GRACE_PERIODS,
    LABEL_MAX_LENGTH,
    LABEL_PATTERN,
    MAX_LABELS,
    RATE_LIMIT_MAX,
    RatePeriod,
)
from apikeys.origins import MAX_ORIGINS, ORIGIN_PATTERN
from tenants.models import Role, validate_tenant_code

# Any whole number of seconds, up to the longest grace period the renew form offers (7 days).
MAX_GRACE_SECONDS = int(max(period.duration for period in GRACE_PERIODS if period.duration).total_seconds())


class StrictSerializer(serializers.Serializer):
    """Refuses a body that is not an object or that has fields this operation does not take."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown[:20]})
        return super().to_internal_value(data)


class StrictBoolean(serializers.BooleanField):
    """JSON true or false only (DRF's also takes 0, 1, "yes", ...)."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictString(serializers.CharField):
    """A JSON string only (DRF's also takes numbers)."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictEmail(serializers.EmailField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictInteger(serializers.IntegerField):
    """A JSON integer only (DRF's also takes "12" and 12.0)."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


ENVIRONMENTS = ["production", "staging", "development"]


class KeyMetadataRequest(StrictSerializer):
    """What a key is for (docs/keys.md): each field optional; on update only those sent change."""

    description = StrictString(
        max_length=DESCRIPTION_MAX_LENGTH, required=False, allow_blank=True, trim_whitespace=False
    )
    owner = StrictEmail(
        max_length=254, required=False, allow_null=True, help_text="E-mail of a member of the tenant; null: no owner."
    )
    environment = serializers.ChoiceField(
        choices=ENVIRONMENTS, required=False, allow_null=True, help_text="null: none."
    )
    labels = serializers.ListField(
        child=StrictString(
            max_length=LABEL_MAX_LENGTH,
            validators=[RegexValidator(LABEL_PATTERN, "Lowercase letters, digits and hyphens (erp, team-shop).")],
        ),
        max_length=MAX_LABELS,
        required=False,
        help_text=f"Free labels, at most {MAX_LABELS}.",
    )


class KeyCreateRequest(KeyMetadataRequest):
    name = StrictString(max_length=64)
    scopes = serializers.ListField(child=StrictString(max_length=100), min_length=1, max_length=MAX_POSTED_SCOPES)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class KeyUpdateRequest(KeyMetadataRequest):
    name = StrictString(max_length=64, required=False)
    scopes = serializers.ListField(
        child=StrictString(max_length=100), min_length=1, max_length=MAX_POSTED_SCOPES, required=False
    )
    expires_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Custom keys: when it stops working (null: never)."
    )
    allowed_networks = serializers.ListField(
        child=StrictString(max_length=64),
        max_length=50,
        required=False,
        help_text="CIDR networks token requests must come from (any key); empty: any address.",
    )
    allowed_origins = serializers.ListField(
        child=StrictString(
            max_length=300, validators=[RegexValidator(ORIGIN_PATTERN, "Not an origin like https://shop.example.com.")]
        ),
        max_length=MAX_ORIGINS,
        required=False,
        help_text="Storefront and custom keys: web origins a browser page may use the key from "
        "(https://shop.example.com, https://*.example.com; `*` for the Storefront key's anonymous login only); "
        "empty: none. See docs/cors.md.",
    )
    token_lifetime = StrictInteger(
        required=False, allow_null=True, min_value=60, help_text="Custom keys: seconds (null: the default)."
    )
    rate_limit = StrictInteger(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=max(RATE_LIMIT_MAX.values()),
        help_text=f"Any key: at most this many token requests, and separately this many gateway checks, per "
        f"rate_limit_period (null: no limit); up to {RATE_LIMIT_MAX[RatePeriod.SECOND]} per second or "
        f"{RATE_LIMIT_MAX[RatePeriod.MINUTE]} per minute.",
    )
    rate_limit_period = serializers.ChoiceField(
        choices=RatePeriod.values,
        required=False,
        help_text="The rate limit's window; when left out, the key's current one.",
    )
    lock_out_caller = StrictBoolean(
        required=False,
        default=False,
        help_text="Confirm a change that takes the calling key's own scopes away, or leaves out the caller's network.",
    )


class KeyRenewRequest(StrictSerializer):
    grace_seconds = StrictInteger(
        min_value=0,
        max_value=MAX_GRACE_SECONDS,
        default=0,
        help_text="How long the old secret keeps working: 0 (now) up to 7 days.",
    )
    lock_out_caller = StrictBoolean(
        required=False, default=False, help_text="Confirm renewing the calling key with no grace period."
    )


class ConfirmRequest(StrictSerializer):
    lock_out_caller = StrictBoolean(required=False, default=False)


class Key(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=["emporix", "storefront", "custom"])
    client_id = serializers.CharField()
    scopes = serializers.ListField(child=serializers.CharField())
    created_at = serializers.DateTimeField()
    renewed_at = serializers.DateTimeField(allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True)
    disabled_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    renew_by = serializers.DateTimeField(
        allow_null=True, help_text="The tenant's maximum secret age: the key stops working then unless renewed."
    )
    dormant = serializers.BooleanField(help_text="No secret of it used for the tenant's dormant period.")
    allowed_networks = serializers.ListField(
        child=serializers.CharField(), help_text="CIDR networks token requests must come from; empty: any."
    )
    allowed_origins = serializers.ListField(
        child=serializers.CharField(),
        help_text="Web origins a browser page may use the key from (normalised); empty: none.",
    )
    token_lifetime = serializers.IntegerField(allow_null=True, help_text="Seconds; null: the deployment's default.")
    token_format = serializers.ChoiceField(choices=["default", "opaque", "jwt"])
    rate_limit = serializers.IntegerField(
        allow_null=True, help_text="Requests per rate_limit_period at the token service and the gateway; null: none."
    )
    rate_limit_period = serializers.ChoiceField(choices=RatePeriod.values)
    old_secret_expires_at = serializers.DateTimeField(
        allow_null=True, help_text="When the old secret (after a renew with a grace period) stops working."
    )
    description = serializers.CharField(help_text="What the key is for; empty: none.")
    owner = serializers.EmailField(allow_null=True, help_text="The member answerable for the key; null: none.")
    environment = serializers.ChoiceField(choices=ENVIRONMENTS, allow_null=True)
    labels = serializers.ListField(child=serializers.CharField())


class KeyWithSecret(Key):
    secret = serializers.CharField(help_text="Shown once: store it now.")


class KeyPage(serializers.Serializer):
    results = Key(many=True)
    next_cursor = serializers.CharField(allow_null=True)


class Revealed(serializers.Serializer):
    client_id = serializers.CharField()
    secret = serializers.CharField()


class ScopeOut(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    storefront = serializers.BooleanField()
    deprecated = serializers.BooleanField()
    replaced_by = serializers.CharField()


class ServiceOut(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    scopes = ScopeOut(many=True, source="api_scopes")


class Member(serializers.Serializer):
    email = serializers.EmailField(source="user.email")
    role = serializers.ChoiceField(choices=Role.choices)
    created_at = serializers.DateTimeField()


class MemberRoleRequest(StrictSerializer):
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationRequest(StrictSerializer):
    email = StrictEmail(max_length=254)
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationOut(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices)
    sent_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()


class ActivityOut(serializers.Serializer):
    created_at = serializers.DateTimeField()
    action = serializers.CharField()
    action_label = serializers.CharField(source="get_action_display")
    actor = serializers.CharField(source="actor_email")
    key_name = serializers.CharField()
    key_client_id = serializers.CharField()
    details = serializers.DictField()
    ip_address = serializers.CharField()


class ActivityPage(serializers.Serializer):
    results = ActivityOut(many=True)
    next_cursor = serializers.CharField(allow_null=True)


class TenantOut(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    created_at = serializers.DateTimeField()
    deactivated_at = serializers.DateTimeField(allow_null=True)


class TenantPage(serializers.Serializer):
    results = TenantOut(many=True)
    next_cursor = serializers.CharField(allow_null=True)


class ManagementKeyRequest(StrictSerializer):
    name = StrictString(max_length=64)
    scopes = serializers.ListField(child=StrictString(max_length=100), min_length=1, max_length=MAX_POSTED_SCOPES)


class TenantCreateRequest(StrictSerializer):
    # The model's validator, so that the document carries its pattern (drf-spectacular maps it).
    code = StrictString(min_length=3, max_length=16, validators=[validate_tenant_code])
    name = StrictString(max_length=100)
    admin_email = StrictEmail(max_length=254)
    management_key = ManagementKeyRequest(
        required=False,
        help_text="Also create a custom key with these scopes (e.g. portal.key_manage): its secret is in the answer, once.",
    )


class CreatedKey(serializers.Serializer):
    kind = serializers.CharField()
    name = serializers.CharField()
    client_id = serializers.CharField()
    secret = serializers.CharField()


class TenantCreated(TenantOut):
    admin_email = serializers.EmailField()
    keys = CreatedKey(many=True)
