"""What allauth's pages that ask for a re-authentication protect, for the page's heading
("Confirm it is you to set up an authenticator app"); accounts.reauth.purpose_register."""

from collections.abc import Mapping

from allauth.mfa.models import Authenticator
from django.http import HttpRequest

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
        ("mfa_activate_totp", "set up an authenticator app"),
        ("mfa_deactivate_totp", "turn off the authenticator app"),
        ("mfa_add_webauthn", "add a passkey"),
        ("mfa_generate_recovery_codes", "make new recovery codes"),
    ]:
        purpose_register(name, _fixed(text), page=True)

    def remove(request, params):
        name = _passkey_name(request, params)
        return f"remove the passkey {name}" if name else "remove a passkey"

    def rename(request, params):
        name = _passkey_name(request, params)
        return f"rename the passkey {name}" if name else "rename a passkey"

    purpose_register("mfa_remove_webauthn", remove, page=True)
    purpose_register("mfa_edit_webauthn", rename, page=True)
