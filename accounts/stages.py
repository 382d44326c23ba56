"""The second-factor step of a login, as allauth's, but one that an app above the accounts may
waive for a login that proved a second factor elsewhere (the sso app: an identity provider
whose multi-factor claims the tenant trusts). The accounts app knows no such app: waivers
register here (`mfa_waiver_register`) from their AppConfig.ready()."""

from collections.abc import Callable

from allauth.account.models import Login
from allauth.mfa.stages import AuthenticateStage as AllauthAuthenticateStage
from django.http import HttpRequest

# waiver(request, login) -> True when this login needs no second factor from the portal.
MfaWaiver = Callable[[HttpRequest, Login], bool]
_waivers: list[MfaWaiver] = []

ALLAUTH_STAGE = "allauth.mfa.stages.AuthenticateStage"
STAGE = "accounts.stages.AuthenticateStage"


def mfa_waiver_register(waiver: MfaWaiver) -> None:
    if waiver not in _waivers:
        _waivers.append(waiver)


class AuthenticateStage(AllauthAuthenticateStage):
    """allauth's step that asks for the authenticator app or a passkey, skipped when a
    registered waiver vouches for this login."""

    def _should_handle(self, request: HttpRequest) -> bool:
        if any(waiver(request, self.login) for waiver in _waivers):
            return False
        return super()._should_handle(request)
