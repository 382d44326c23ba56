"""What the tenants' actions that ask for a re-authentication protect, for its page's heading
("Confirm it is you to remove bob@example.com from Acme"); accounts.reauth.purpose_register.
Each names only what the user can see: a tenant they belong to, and its members. The finders
here serve the apps above too (a key, a webhook endpoint: `found_in_tenant`)."""

import uuid
from collections.abc import Callable, Mapping

from django.db.models import Model
from django.http import HttpRequest
from django.utils.translation import gettext_lazy

from accounts.purpose_registry import purpose_register, worded

from .models import Invitation, Membership, Tenant


def tenant_of(request: HttpRequest, params: Mapping[str, str]) -> Tenant | None:
    """The tenant `params["code"]` names, if the user belongs to it."""
    return Tenant.objects.filter(code=params.get("code", ""), memberships__user=request.user).first()


def found_in_tenant(model: type[Model], id_param: str) -> Callable[[HttpRequest, Mapping[str, str]], Model | None]:
    """A finder of the `model` row whose public id `params[id_param]` names, in the tenant
    `params["code"]` names, if the user belongs to that tenant."""

    def find(request: HttpRequest, params: Mapping[str, str]) -> Model | None:
        try:
            public_id = uuid.UUID(params.get(id_param, ""))
        except ValueError:
            return None
        return model.objects.filter(
            tenant__code=params.get("code", ""), tenant__memberships__user=request.user, public_id=public_id
        ).first()

    return find


def _member(request: HttpRequest, params: Mapping[str, str]) -> Membership | None:
    tenant = tenant_of(request, params)
    member_id = params.get("member_id", "")
    if tenant is None or not member_id.isdigit():
        return None
    return Membership.objects.select_related("user", "tenant").filter(tenant=tenant, pk=int(member_id)).first()


_invitation = found_in_tenant(Invitation, "invitation_id")


def register() -> None:
    purpose_register("tenants:member_add", worded(tenant_of, gettext_lazy("invite a member to {0.name}")))
    purpose_register("tenants:policy", worded(tenant_of, gettext_lazy("change the security policy of {0.name}")))
    purpose_register(
        "tenants:member_role", worded(_member, gettext_lazy("change the role of {0.user.email} in {0.tenant.name}"))
    )
    purpose_register(
        "tenants:member_remove", worded(_member, gettext_lazy("remove {0.user.email} from {0.tenant.name}"))
    )
    purpose_register(
        "tenants:invitation_resend", worded(_invitation, gettext_lazy("resend the invitation to {0.email}"))
    )
    purpose_register(
        "tenants:invitation_cancel", worded(_invitation, gettext_lazy("cancel the invitation to {0.email}"))
    )
