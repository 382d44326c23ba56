"""The re-authentication pages' wording: {% reauth_page redirect_field_value as reauth %} gives
`reauth.purpose` (what the page protects, worded on the server by accounts.reauth.purpose_for,
never taken from the request) and `reauth.back` (the page to go back to: `next` if it is a page
of this site, else the front page). {{ alt|reauth_method }} words one of allauth's methods."""

from allauth.account import app_settings as account_settings
from django import template
from django.conf import settings
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy

from accounts import reauth
from kernel.dates import wait_text

register = template.Library()

METHODS = {
    "reauthenticate": gettext_lazy("Use your password"),
    "mfa_reauthenticate": gettext_lazy("Use your authenticator app or a recovery code"),
    "mfa_reauthenticate:webauthn": gettext_lazy("Use a passkey"),
}


@register.simple_tag(takes_context=True)
def reauth_page(context, next_url: str | None) -> dict[str, str]:
    """`purpose`, `back`, and `window`: how long a proof counts ("10 minutes")."""
    request = context["request"]
    back = next_url or ""
    if not back or not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = resolve_url(settings.LOGIN_REDIRECT_URL)
    return {
        "purpose": reauth.purpose_for(request, next_url),
        "back": back,
        "window": wait_text(account_settings.REAUTHENTICATION_TIMEOUT),
    }


@register.filter
def reauth_method(alternative: dict) -> str:
    return METHODS.get(alternative.get("id", ""), alternative.get("description", ""))
