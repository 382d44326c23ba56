"""What allauth's pages that ask for a re-authentication protect, for the page's heading
("Confirm it is you to set up an authenticator app"); accounts.reauth.purpose_register."""

from collections.abc import Mapping

from allauth.mfa.models import Authenticator
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .purpose_registry import purpose_register


def _passkey_name(request: HttpRequest, params: Mapping[str, str]) -> str | None:
    pk = params.get("pk", "")
    if not pk.isdigit():
        return None
    passkey = Authenticator.objects.filter(user=request.user, pk=int(pk), type=Authenticator.Type.WEBAUTHN).first()
    return passkey.wrap().name if passkey else None


def _fixed(text: str):
    return lambda request, params: text


def register() -> None:
    for name, text in [
        # After "Confirm it is you to": in German a clause with "zu" ("… einzurichten").
        ("mfa_activate_totp", gettext_lazy("set up an authenticator app")),
        ("mfa_deactivate_totp", gettext_lazy("turn off the authenticator app")),
        ("mfa_add_webauthn", gettext_lazy("add a passkey")),
        ("mfa_generate_recovery_codes", gettext_lazy("make new recovery codes")),
    ]:
        purpose_register(name, _fixed(text), page=True)

    def remove(request, params):
        name = _passkey_name(request, params)
        return _("remove the passkey %(name)s") % {"name": name} if name else _("remove a passkey")

    def rename(request, params):
        name = _passkey_name(request, params)
        return _("rename the passkey %(name)s") % {"name": name} if name else _("rename a passkey")

    purpose_register("mfa_remove_webauthn", remove, page=True)
    purpose_register("mfa_edit_webauthn", rename, page=True)
