"""What the tenants' actions that ask for a re-authentication protect, for its page's heading
("Confirm it is you to remove bob@example.com from Acme"); accounts.reauth.purpose_register.
Each names only what the user can see: a tenant they belong to, and its members."""

import uuid
from collections.abc import Mapping

from django.http import HttpRequest

from accounts.purpose_registry import purpose_register

from .models import Invitation, Membership, Tenant


def tenant_of(request: HttpRequest, params: Mapping[str, str]) -> Tenant | None:
    """The tenant `params["code"]` names, if the user belongs to it."""
    return Tenant.objects.filter(code=params.get("code", ""), memberships__user=request.user).first()


def _member(request: HttpRequest, params: Mapping[str, str]) -> Membership | None:
    tenant = tenant_of(request, params)
    member_id = params.get("member_id", "")
    if tenant is None or not member_id.isdigit():
        return None
    return Membership.objects.select_related("user", "tenant").filter(tenant=tenant, pk=int(member_id)).first()


def _invitation(request: HttpRequest, params: Mapping[str, str]) -> Invitation | None:
    tenant = tenant_of(request, params)
    try:
        public_id = uuid.UUID(params.get("invitation_id", ""))
    except ValueError:
        return None
    return Invitation.objects.filter(tenant=tenant, public_id=public_id).first() if tenant else None


def register() -> None:
    def on_tenant(text: str):
        def describe(request, params):
            tenant = tenant_of(request, params)
            return text.format(tenant=tenant.name) if tenant else None

        return describe

    def on_member(text: str):
        def describe(request, params):
            member = _member(request, params)
            return text.format(email=member.user.email, tenant=member.tenant.name) if member else None

        return describe

    def on_invitation(text: str):
        def describe(request, params):
            invitation = _invitation(request, params)
            return text.format(email=invitation.email) if invitation else None

        return describe

    purpose_register("tenants:member_add", on_tenant("invite a member to {tenant}"))
    purpose_register("tenants:policy", on_tenant("change the security policy of {tenant}"))
    purpose_register("tenants:member_role", on_member("change the role of {email} in {tenant}"))
    purpose_register("tenants:member_remove", on_member("remove {email} from {tenant}"))
    purpose_register("tenants:invitation_resend", on_invitation("resend the invitation to {email}"))
    purpose_register("tenants:invitation_cancel", on_invitation("cancel the invitation to {email}"))
