from typing import Any

from django.db import transaction
from django.http import HttpRequest

from activity.models import Action
from activity.services import activity_record
from apikeys.models import ApiKey, KeyKind
from apikeys.services import key_create

from .models import Membership, Role, Tenant


@transaction.atomic
def tenant_create(
    *, code: str, name: str, creator: Any, request: HttpRequest | None = None
) -> tuple[Tenant, list[tuple[ApiKey, str]]]:
    """Create a tenant, make `creator` its admin and provision its Emporix API and Storefront
    API keys, all in one transaction. Returns the tenant and each key with its secret."""
    tenant = Tenant(code=code, name=name)
    tenant.full_clean()
    tenant.save(force_insert=True)
    Membership.objects.create(user=creator, tenant=tenant, role=Role.ADMIN)
    activity_record(
        tenant=tenant,
        action=Action.TENANT_CREATED,
        actor=creator,
        request=request,
        details={"code": code, "name": name},
    )
    keys = [
        key_create(tenant=tenant, kind=kind, actor=creator, request=request)
        for kind in (KeyKind.EMPORIX, KeyKind.STOREFRONT)
    ]
    return tenant, keys
