"""The keys app's part in the tenants app's lifecycle (tenants.signals): a new tenant gets its
built-in keys, a deactivated one has every key disabled, a member who leaves owns none of its
keys any more, a new maximum secret age moves every
key's renewal deadline. Each runs inside the tenants service's transaction."""

from typing import Any

from django.dispatch import receiver
from django.utils import timezone

from tenants.signals import member_removed, tenant_created, tenant_deactivated, tenant_policy_changed

from .models import BUILTIN_KINDS, ApiKey
from .services import key_create, key_disable, keys_owned_clear, renew_by_for


@receiver(tenant_created, dispatch_uid="apikeys.tenant_created")
def builtin_keys_provision(sender: object, *, tenant: Any, audit: Any, **_: object) -> list[tuple[ApiKey, str]]:
    """The tenant's Emporix API and Storefront API keys, each with its secret."""
    return [key_create(tenant=tenant, kind=kind, audit=audit) for kind in BUILTIN_KINDS]


@receiver(tenant_deactivated, dispatch_uid="apikeys.tenant_deactivated")
def keys_disable_all(sender: object, *, tenant: Any, audit: Any, **_: object) -> None:
    for key in ApiKey.objects.filter(tenant=tenant):
        key_disable(key=key, audit=audit, reason="tenant deactivated")


@receiver(tenant_policy_changed, dispatch_uid="apikeys.tenant_policy_changed")
def renewal_deadlines_move(sender: object, *, tenant: Any, changed: dict[str, Any], **_: object) -> None:
    """A new maximum secret age gives every key the whole period from now."""
    if "secret_max_age_days" in changed:
        ApiKey.objects.filter(tenant=tenant).update(renew_by=renew_by_for(tenant, timezone.now()))


@receiver(member_removed, dispatch_uid="apikeys.member_removed")
def owner_left(sender: object, *, tenant: Any, user: Any, audit: Any, **_: object) -> None:
    """Keys keep no owner who is not a member (docs/keys.md): theirs is cleared."""
    keys_owned_clear(tenant=tenant, user=user, audit=audit)
