from django.db import transaction

from accounts.models import User
from activity.audit import SYSTEM, Audit
from activity.models import Action
from activity.services import activity_record
from apikeys.models import BUILTIN_KINDS, ApiKey
from apikeys.services import key_create

from .models import Membership, Role, Tenant


@transaction.atomic
def tenant_create(
    *, code: str, name: str, creator: User, audit: Audit | None = None
) -> tuple[Tenant, list[tuple[ApiKey, str]]]:
    """Create a tenant, make `creator` its admin and provision its Emporix API and Storefront
    API keys, all in one transaction. Returns the tenant and each key with its secret. The
    activity is the creator's unless `audit` says otherwise (e.g. with the client address)."""
    audit = audit or Audit(actor=creator)
    tenant = Tenant(code=code, name=name)
    tenant.full_clean()
    tenant.save(force_insert=True)
    Membership.objects.create(user=creator, tenant=tenant, role=Role.ADMIN)
    activity_record(
        tenant=tenant,
        action=Action.TENANT_CREATED,
        audit=audit,
        details={"code": code, "name": name},
    )
    keys = [key_create(tenant=tenant, kind=kind, audit=audit) for kind in BUILTIN_KINDS]
    return tenant, keys


class LastAdminError(ValueError):
    """The change would leave the tenant without an admin. Its message is for the user."""

    def __init__(self, message: str = "A tenant needs at least one admin: make someone else admin first.") -> None:
        super().__init__(message)


def _keep_an_admin(membership: Membership) -> None:
    """Raises LastAdminError if `membership` is the tenant's only admin, so that demoting or
    removing it would leave the tenant without one."""
    if membership.role != Role.ADMIN:
        return
    # Lock every admin membership of the tenant so two concurrent demotions cannot both pass.
    admins = Membership.objects.select_for_update().filter(tenant=membership.tenant, role=Role.ADMIN)
    if not any(pk != membership.pk for pk in admins.values_list("pk", flat=True)):
        raise LastAdminError()


@transaction.atomic
def member_add(*, tenant: Tenant, email: str, role: str, audit: Audit = SYSTEM) -> tuple[Membership, bool]:
    """Add a user (created without a usable password if new) to the tenant with `role`.
    Returns the membership and whether the user is new (and so needs a password-reset link)."""
    email = User.objects.normalize_email(email).lower()
    user = User.objects.filter(email__iexact=email).first()
    created = user is None
    if created:
        user = User.objects.create_user(email=email, password=None)
    membership = Membership.objects.create(user=user, tenant=tenant, role=role)
    activity_record(
        tenant=tenant,
        action=Action.MEMBER_ADDED,
        audit=audit,
        details={"member": email, "role": role},
    )
    return membership, created


@transaction.atomic
def member_change_role(*, membership: Membership, role: str, audit: Audit = SYSTEM) -> Membership:
    """Change a member's role; the tenant always keeps at least one admin."""
    membership = Membership.objects.select_for_update().select_related("user", "tenant").get(pk=membership.pk)
    if membership.role == role:
        return membership
    _keep_an_admin(membership)
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    activity_record(
        tenant=membership.tenant,
        action=Action.MEMBER_CHANGED,
        audit=audit,
        details={"member": membership.user.email, "from": before, "to": role},
    )
    return membership


@transaction.atomic
def member_remove(*, membership: Membership, audit: Audit = SYSTEM) -> None:
    """Remove a member; the tenant always keeps at least one admin."""
    membership = Membership.objects.select_for_update().select_related("user", "tenant").get(pk=membership.pk)
    _keep_an_admin(membership)
    activity_record(
        tenant=membership.tenant,
        action=Action.MEMBER_REMOVED,
        audit=audit,
        details={"member": membership.user.email, "role": membership.role},
    )
    membership.delete()
