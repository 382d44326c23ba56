"""django-allauth's social accounts fitted to single sign-on per tenant: each tenant's
provider is an allauth app (`openid_connect`, or `saml` with the tenant code as its
organization slug; provider id `sso-<code>` either way) built from the tenant's Connection row
when allauth asks for it, so the client secret stays encrypted
in the portal's own table and is decrypted only to talk to the provider. Every sign-in is
checked against the tenant's rules before allauth logs anyone in (pre_social_login), and every
failure gets the portal's page and an activity entry (on_authentication_error)."""

import functools
import logging

from allauth.account.models import EmailAddress
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp, SocialLogin
from allauth.socialaccount.providers.base.constants import AuthError
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext, gettext_lazy

from accounts.models import User
from activity.audit import Audit
from kernel.crypto import DecryptionError
from tenants.models import Tenant

from . import claims, saml, services
from .addresses import CheckedSession
from .models import PROVIDER_PREFIX, ClaimedDomain, Connection, MfaPolicy

logger = logging.getLogger(__name__)

# What a refused sign-in says, by reason (the activity entry keeps the reason's code).
REASONS = {
    "provider_error": gettext_lazy("The identity provider did not sign you in: {detail}"),
    "invalid_response": gettext_lazy(
        "The identity provider's answer could not be trusted (it was for another "
        "client, expired, used before, not signed by the provider, or the request did not start here). "
        "Nothing was signed in."
    ),
    "no_email": gettext_lazy("The identity provider did not say which e-mail address you have."),
    "foreign_domain": gettext_lazy("{email} is not an address of a domain {tenant} has proved as its own."),
    "not_admitted": gettext_lazy("{tenant}'s identity provider does not give {email} access to the portal."),
    "unavailable": gettext_lazy("Single sign-on for {tenant} is not available right now."),
}
# Fixed words for the provider's own error codes (its error_description is not shown: it is
# the provider's text, in a page of the portal).
PROVIDER_ERRORS = {
    "access_denied": gettext_lazy("it refused the request."),
    "login_required": gettext_lazy("you are not logged in there."),
    "consent_required": gettext_lazy("it needs your consent first."),
    "interaction_required": gettext_lazy("it needs you to do something there first."),
}
# How python3-saml begins the reason of a response whose status is not Success.
SAML_STATUS_ERROR = "The status code of the Response was not Success"
# The session key of a sign-in through a tenant's provider: {"tenant": code, "mfa": bool}.
SESSION_KEY = "sso"


def refused(
    request: HttpRequest, tenant: Tenant | None, reason: str, *, email: str = "", detail: str = ""
) -> HttpResponse:
    """The page of a refused sign-in, recorded in the tenant's activity log."""
    if tenant is not None:
        services.sso_login_refuse(tenant=tenant, audit=Audit.of(request), reason=reason, email=email)
    text = str(REASONS[reason]).format(
        email=email, tenant=tenant.name if tenant else gettext("the tenant"), detail=detail
    )
    return render(request, "sso/refused.html", {"message": text, "tenant": tenant}, status=403)


def tenant_code(provider_id: str) -> str | None:
    return provider_id.removeprefix(PROVIDER_PREFIX) if provider_id.startswith(PROVIDER_PREFIX) else None


def connection_for(request: HttpRequest | None, code: str) -> Connection | None:
    """The tenant's enabled connection, once per request (allauth asks for the app often)."""
    cache = getattr(request, "_sso_connections", None) if request is not None else None
    if cache is None:
        cache = {}
        if request is not None:
            request._sso_connections = cache
    if code not in cache:
        cache[code] = Connection.objects.select_related("tenant").filter(tenant__code=code, is_enabled=True).first()
    return cache[code]


def app_for(connection: Connection) -> SocialApp | None:
    """The tenant's allauth app, unsaved (allauth's settings-based apps are the same)."""
    if connection.is_saml:
        return saml.app_for(connection)
    try:
        secret = services.connection_secret(connection)
    except DecryptionError as exc:
        logger.error("sso of tenant %s: client secret cannot be decrypted: %s", connection.tenant.code, exc)
        return None
    return SocialApp(
        provider="openid_connect",
        provider_id=connection.provider_id,
        name=connection.tenant.name,
        client_id=connection.client_id,
        secret=secret,
        settings={
            "server_url": connection.issuer_url,
            "scope": connection.scopes.split(),
            "oauth_pkce_enabled": True,
            "fetch_userinfo": True,
        },
    )


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def list_apps(self, request: HttpRequest, provider=None, client_id=None) -> list[SocialApp]:
        # Only tenants' providers exist, each looked up by its provider id; the portal lists
        # none of them (nothing shows "log in with X" buttons). A sign-in paused for the
        # portal's second factor names its provider by class and client ID alone (allauth's
        # Provider.serialize): any tenant's app of that client ID serves, since the tenant of
        # the sign-in is in its state.
        code = tenant_code(provider or "")
        if code is None and provider == "saml":
            # allauth's SAML views name the app by its organization slug: the tenant code.
            code = client_id
        elif code is None and provider == "openid_connect" and client_id:
            code = (
                Connection.objects.filter(client_id=client_id, is_enabled=True)
                .order_by("pk")
                .values_list("tenant__code", flat=True)
                .first()
            )
        connection = connection_for(request, code) if code else None
        app = app_for(connection) if connection else None
        asked_class = provider in ("saml", "openid_connect")
        if app is None or (client_id and app.client_id != client_id) or (asked_class and provider != app.provider):
            return []
        return [app]

    def get_requests_session(self) -> CheckedSession:
        """Every request to a provider (discovery, token, userinfo, keys) goes to a public
        https address only (sso.addresses), within SSO_REQUESTS_TIMEOUT."""
        session = CheckedSession()
        session.request = functools.partial(session.request, timeout=settings.SOCIALACCOUNT_REQUESTS_TIMEOUT)
        return session

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        # A person the tenant's provider admits gets an account (provisioning); nobody else.
        return bool(sociallogin.state.get(SESSION_KEY))

    def is_auto_signup_allowed(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return True

    def can_authenticate_by_email(self, login: SocialLogin, email: str) -> bool:
        # Linking to an existing account by address is done in pre_social_login, for proved
        # domains only, without allauth wiping the account's password.
        return False

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        """The tenant's rules, before anyone is logged in: an address of a domain the tenant
        proved, and a role from the provider's groups (or the default). A person the groups no
        longer admit loses the membership here. Raises ImmediateHttpResponse to refuse."""
        code = tenant_code(sociallogin.account.provider)
        connection = connection_for(request, code) if code else None
        if connection is None:
            raise ImmediateHttpResponse(refused(request, None, "unavailable"))
        tenant = connection.tenant
        extra = sociallogin.account.extra_data
        said = claims.saml_claims(connection, extra) if connection.is_saml else claims.merged(extra)
        email = claims.email_of(connection, said)
        if not email or "@" not in email:
            raise ImmediateHttpResponse(refused(request, tenant, "no_email"))
        domain = email.rpartition("@")[2]
        if not ClaimedDomain.objects.filter(tenant=tenant, domain=domain, verified_at__isnull=False).exists():
            raise ImmediateHttpResponse(refused(request, tenant, "foreign_domain", email=email))
        groups = claims.groups_of(connection, said)
        admission = services.Admission(
            email=email,
            groups=groups,
            role=claims.role_for(connection, groups),
            mfa=connection.mfa_policy == MfaPolicy.PROVIDER and claims.used_mfa(connection, said),
        )
        user = sociallogin.user if sociallogin.is_existing else User.objects.filter(email__iexact=email).first()
        if admission.role is None:
            if user is not None:
                services.sso_access_withdraw(tenant=tenant, user=user, audit=Audit.of(request))
            raise ImmediateHttpResponse(refused(request, tenant, "not_admitted", email=email))
        if not sociallogin.is_existing:
            if user is not None:
                # The provider vouches for an address of a proved domain: link its account.
                sociallogin.connect(request, user)
            else:
                sociallogin.user.email = email
                sociallogin.email_addresses = [EmailAddress(email=email, verified=True, primary=True)]
        sociallogin.state[SESSION_KEY] = {
            "tenant": tenant.code,
            "email": email,
            "groups": groups,
            "role": admission.role,
            "mfa": admission.mfa,
        }

    def on_authentication_error(self, request, provider, error=None, exception=None, extra_context=None) -> None:
        """A provider's error, a state that does not match, a token for another client or
        expired: the portal's page, recorded for the tenant."""
        code = tenant_code(getattr(getattr(provider, "app", None), "provider_id", "") or "")
        connection = connection_for(request, code) if code else None
        tenant = connection.tenant if connection else None
        provider_error = request.GET.get("error", "")
        saml_reason = str((extra_context or {}).get("saml_last_error_reason") or "")
        if saml_reason.startswith(SAML_STATUS_ERROR):
            # The IdP answered with a status other than Success (python3-saml's words).
            logger.warning("sso: SAML sign-in for %s: %s", code, saml_reason[:200])
            raise ImmediateHttpResponse(
                refused(request, tenant, "provider_error", detail=gettext("it answered with an error status."))
            )
        if error == AuthError.CANCELLED and connection is not None and connection.is_saml:
            raise ImmediateHttpResponse(
                refused(request, tenant, "provider_error", detail=gettext("it did not sign you in."))
            )
        if provider_error:
            detail = PROVIDER_ERRORS.get(provider_error) or gettext("it answered with an error.")
            raise ImmediateHttpResponse(refused(request, tenant, "provider_error", detail=detail))
        logger.warning(
            "sso: sign-in for %s refused: %s %s %s", code, error, type(exception).__name__, saml_reason[:200]
        )
        raise ImmediateHttpResponse(refused(request, tenant, "invalid_response"))
