"""What the key actions that ask for a re-authentication protect, for its page's heading
("Confirm it is you to reveal the secret of ERP orders"); accounts.reauth.purpose_register.
Each names only a key of a tenant the user belongs to; the POST's `purpose` of a reveal is
mapped to fixed words, never shown."""

import uuid
from collections.abc import Mapping

from django.http import HttpRequest

from accounts.purpose_registry import purpose_register
from tenants.purposes import tenant_of

from .models import ApiKey


def _key(request: HttpRequest, params: Mapping[str, str]) -> ApiKey | None:
    try:
        public_id = uuid.UUID(params.get("key_id", ""))
    except ValueError:
        return None
    return ApiKey.objects.filter(
        tenant__code=params.get("code", ""), tenant__memberships__user=request.user, public_id=public_id
    ).first()


def _on_key(text: str):
    def describe(request, params):
        key = _key(request, params)
        return text.format(name=key.name) if key else None

    return describe


def _secret(request, params):
    key = _key(request, params)
    if key is None:
        return None
    verb = "copy" if params.get("purpose") == "copy" else "reveal"
    which = "an old secret" if params.get("secret") else "the secret"
    return f"{verb} {which} of {key.name}"


def _on_tenant(text: str):
    def describe(request, params):
        tenant = tenant_of(request, params)
        return text.format(tenant=tenant.name) if tenant else None

    return describe


def register() -> None:
    purpose_register("apikeys:secret", _secret, fields=("purpose", "secret"))
    purpose_register("apikeys:create", _on_tenant("create a custom API key in {tenant}"), page=True)
    purpose_register("apikeys:edit", _on_key("edit {name}"), page=True)
    purpose_register("apikeys:settings", _on_key("change the settings of {name}"), page=True)
    purpose_register("apikeys:report_leak", _on_tenant("report a leaked secret of {tenant}"), page=True)
    purpose_register("apikeys:renew", _on_key("renew the secret of {name}"))
    purpose_register("apikeys:retire", _on_key("retire the old secret of {name}"))
    purpose_register("apikeys:delete", _on_key("delete {name}"))
    purpose_register("apikeys:disable", _on_key("disable {name}"))
    purpose_register("apikeys:enable", _on_key("enable {name}"))
    purpose_register("apikeys:bulk", _on_tenant("change several keys of {tenant} at once"), page=True)
    purpose_register("apikeys:disable", _on_key("disable {name}"))
    purpose_register("apikeys:enable", _on_key("enable {name}"))
