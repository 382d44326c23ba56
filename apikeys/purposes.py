"""What the key actions that ask for a re-authentication protect, for its page's heading
("Confirm it is you to reveal the secret of ERP orders"); accounts.reauth.purpose_register.
Each names only a key of a tenant the user belongs to; the POST's `purpose` of a reveal is
mapped to fixed words, never shown."""

from collections.abc import Mapping

from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.purpose_registry import purpose_register, worded
from tenants.purposes import found_in_tenant, tenant_of

from .models import ApiKey

_key = found_in_tenant(ApiKey, "key_id")


def _secret(request: HttpRequest, params: Mapping[str, str]) -> str | None:
    key = _key(request, params)
    if key is None:
        return None
    copy, old = params.get("purpose") == "copy", bool(params.get("secret"))
    if copy:
        text = _("copy an old secret of %(name)s") if old else _("copy the secret of %(name)s")
    else:
        text = _("reveal an old secret of %(name)s") if old else _("reveal the secret of %(name)s")
    return text % {"name": key.name}


def register() -> None:
    purpose_register("apikeys:secret", _secret, fields=("purpose", "secret"))
    purpose_register(
        "apikeys:create", worded(tenant_of, gettext_lazy("create a custom API key in {0.name}")), page=True
    )
    purpose_register("apikeys:edit", worded(_key, gettext_lazy("edit {0.name}")), page=True)
    purpose_register("apikeys:settings", worded(_key, gettext_lazy("change the settings of {0.name}")), page=True)
    purpose_register(
        "apikeys:report_leak", worded(tenant_of, gettext_lazy("report a leaked secret of {0.name}")), page=True
    )
    purpose_register("apikeys:renew", worded(_key, gettext_lazy("renew the secret of {0.name}")))
    purpose_register("apikeys:retire", worded(_key, gettext_lazy("retire the old secret of {0.name}")))
    purpose_register("apikeys:delete", worded(_key, gettext_lazy("delete {0.name}")))
    purpose_register("apikeys:disable", worded(_key, gettext_lazy("disable {0.name}")))
    purpose_register("apikeys:enable", worded(_key, gettext_lazy("enable {0.name}")))
    purpose_register(
        "apikeys:bulk", worded(tenant_of, gettext_lazy("change several keys of {0.name} at once")), page=True
    )
