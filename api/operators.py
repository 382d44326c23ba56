"""Operator keys: credentials for provisioning tenants over the API, not tied to any customer
tenant. They live in one hidden tenant (`Tenant.is_operator`, code OPERATOR_TENANT_CODE) that
has no members, never appears in a tenant list (nobody is a member; the API's tenant list
excludes it) and cannot be managed over the API. So the token path (`bearer_verify`, the
token endpoint) needs no change: an operator key is an ordinary custom key whose only scope,
portal.tenant_manage, is offered to no other key."""

from django.db import transaction

from activity.audit import SYSTEM
from apikeys.models import ApiKey, KeyKind
from apikeys.services import key_create, key_delete
from scopes.models import Scope
from tenants.models import Tenant

OPERATOR_TENANT_CODE = "operators"
OPERATOR_SCOPE = "portal.tenant_manage"


class OperatorTenantTaken(Exception):
    """A customer tenant already has the operators' code."""


def operator_tenant() -> Tenant:
    tenant, _ = Tenant.objects.get_or_create(
        is_operator=True, defaults={"code": OPERATOR_TENANT_CODE, "name": "Operators"}
    )
    return tenant


@transaction.atomic
def operator_key_create(*, name: str) -> tuple[ApiKey, str]:
    if Tenant.objects.filter(code=OPERATOR_TENANT_CODE, is_operator=False).exists():
        raise OperatorTenantTaken(f"A customer tenant has the code {OPERATOR_TENANT_CODE!r}.")
    scope = Scope.objects.get(name=OPERATOR_SCOPE)
    return key_create(tenant=operator_tenant(), kind=KeyKind.CUSTOM, name=name, scopes=[scope], audit=SYSTEM)


def operator_keys():
    return ApiKey.objects.filter(tenant__is_operator=True).order_by("created_at")


def operator_key_revoke(*, client_id: str) -> bool:
    key = operator_keys().filter(client_id=client_id).first()
    if key is None:
        return False
    key_delete(key=key, audit=SYSTEM)
    return True
