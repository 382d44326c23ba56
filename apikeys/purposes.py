"""What the key actions that ask for a re-authentication protect, for its page's heading
("Confirm it is you to reveal the secret of ERP orders"); accounts.reauth.purpose_register.
Each names only a key of a tenant the user belongs to; the POST's `purpose` of a reveal is
mapped to fixed words, never shown."""

from collections.abc import Mapping

from django.http import HttpRequest

from accounts.purpose_registry import purpose_register, worded
from tenants.purposes import found_in_tenant, tenant_of

from .models import ApiKey

_key = found_in_tenant(ApiKey, "key_id")


def _secret(request: HttpRequest, params: Mapping[str, str]) -> str | None:
    key = _key(request, params)
    if key is None:
        return None
    verb = "copy" if params.get("purpose") == "copy" else "reveal"
    which = "an old secret" if params.get("secret") else "the secret"
    return f"{verb} {which} of {key.name}"


def register() -> None:
    purpose_register("apikeys:secret", _secret, fields=("purpose", "secret"))
    purpose_register("apikeys:create", worded(tenant_of, "create a custom API key in {0.name}"), page=True)
    purpose_register("apikeys:edit", worded(_key, "edit {0.name}"), page=True)
    purpose_register("apikeys:settings", worded(_key, "change the settings of {0.name}"), page=True)
    purpose_register("apikeys:report_leak", worded(tenant_of, "report a leaked secret of {0.name}"), page=True)
    purpose_register("apikeys:renew", worded(_key, "renew the secret of {0.name}"))
    purpose_register("apikeys:retire", worded(_key, "retire the old secret of {0.name}"))
    purpose_register("apikeys:delete", worded(_key, "delete {0.name}"))
    purpose_register("apikeys:disable", worded(_key, "disable {0.name}"))
    purpose_register("apikeys:enable", worded(_key, "enable {0.name}"))
    purpose_register("apikeys:bulk", worded(tenant_of, "change several keys of {0.name} at once"), page=True)
