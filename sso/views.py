"""Single sign-on pages: "Sign in with SSO" (public), and the tenant admins' page that sets up
the provider, the requirement and the claimed domains."""

import logging
import time

import requests
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.providers.base import AuthProcess
from allauth.socialaccount.providers.saml import views as saml_views
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from onelogin.saml2.errors import OneLogin_Saml2_Error

from accounts.reauth import recent_auth_required
from activity.audit import Audit
from kernel import ratelimit
from kernel.net import client_ip
from kernel.views import rate_limited
from tenants.access import membership_for, require_role
from tenants.models import Membership, Role

from . import domains, saml, services
from .access import signed_in_through
from .adapter import app_for, connection_for, refused
from .forms import ConnectionForm, DomainForm, EnforcementForm, SsoStartForm
from .models import ClaimedDomain, Connection, ScimToken

logger = logging.getLogger(__name__)
NO_SSO = gettext_noop("No single sign-on is set up for that tenant code or e-mail domain.")


def _connection_of(request: HttpRequest, who: str) -> Connection | None:
    """The enabled connection for a tenant code, or for the proved domain of an e-mail."""
    if "@" in who:
        proved = ClaimedDomain.objects.filter(domain=who.rpartition("@")[2], verified_at__isnull=False)
        code = proved.values_list("tenant__code", flat=True).first()
    else:
        code = who
    return connection_for(request, code) if code else None


def _next_url(request: HttpRequest, connection: Connection) -> str:
    """Where the sign-in returns: `next` (a page of this site: a re-authentication's), else the
    tenant's keys."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return reverse("apikeys:list", kwargs={"code": connection.tenant.code})


def _to_provider(request: HttpRequest, connection: Connection) -> HttpResponse | None:
    """The way to the tenant's provider, as allauth builds it (its state and PKCE kept in the
    session; back to the tenant's keys), on a page that goes on at once (meta refresh) with a
    link to follow. Not a redirect: the portal's Content-Security-Policy (`form-action 'self'`)
    would stop a form's POST redirected to another origin, and the provider's origin is known
    only once the person said who they are. None when the provider cannot be reached."""
    app = app_for(connection)
    if app is None:
        return None
    provider = get_adapter().get_provider(request, connection.provider_id)
    next_url = _next_url(request, connection)
    try:
        redirect_response = provider.redirect(request, AuthProcess.LOGIN, next_url=next_url)
    except (requests.RequestException, ValueError, KeyError, TypeError, OneLogin_Saml2_Error):
        # The provider's discovery document is out of reach, refused (sso.addresses) or
        # malformed; or python3-saml refuses the SAML settings.
        logger.warning("sso: provider of %s unreachable", connection.tenant.code, exc_info=True)
        return None
    url = redirect_response["Location"]
    response = render(request, "sso/redirect.html", {"url": url, "tenant": connection.tenant})
    add_never_cache_headers(response)
    return response


@login_not_required
@require_http_methods(["GET", "POST"])
def sso_start(request: HttpRequest) -> HttpResponse:
    """Sign in with SSO: a tenant code or a work e-mail of a proved domain leads to the tenant's
    identity provider. Unknown codes and domains get one answer."""
    form = SsoStartForm(request.POST or None, initial={"who": request.GET.get("tenant", "")[:16]})
    if request.method == "POST":
        # Each start of a known tenant fetches its provider's discovery document: bounded per
        # client address.
        counter = ratelimit.Counter("sso:start:a", (client_ip(request),), settings.SSO_START_LIMIT_PER_ADDRESS)
        if wait := ratelimit.hit([counter], window=settings.SSO_START_WINDOW, now=time.time()):
            return rate_limited(request, wait, gettext("Too many sign-ins with SSO were started from your address."))
    if request.method == "POST" and form.is_valid():
        connection = _connection_of(request, form.cleaned_data["who"])
        if connection is None:
            form.add_error("who", gettext(NO_SSO))
        elif (response := _to_provider(request, connection)) is not None:
            return response
        else:
            form.add_error("who", f"{connection.tenant.name}'s identity provider cannot be reached. Try again later.")
    status = 400 if form.is_bound else 200
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    return render(request, "sso/start.html", {"form": form, "next": next_url}, status=status)


@login_not_required
def saml_finish(request: HttpRequest, organization_slug: str) -> HttpResponse:
    """The end of allauth's SAML assertion consumer service. A response that answers no request
    of this browser's session (a response posted again, or captured and posted in another
    browser) makes allauth raise PermissionDenied; it gets the portal's refusal page and an
    activity entry, as every other bad answer does."""
    try:
        return saml_views.finish_acs(request, organization_slug=organization_slug)
    except PermissionDenied:
        connection = connection_for(request, organization_slug)
        return refused(request, connection.tenant if connection else None, "invalid_response")


@login_not_required
def saml_no_logout(request: HttpRequest, organization_slug: str) -> HttpResponse:
    """allauth's single logout service, not offered: python3-saml would accept an unsigned
    logout request (the portal does not ask the IdP to sign its messages, only its
    assertions), so any page could log a person out through it."""
    raise Http404("single logout is not offered")


def _settings_page(request: HttpRequest, code: str, **kwargs) -> str:
    return reverse("sso:settings", kwargs={"code": code})


def _render_settings(request: HttpRequest, membership: Membership, status: int = 200, **forms) -> HttpResponse:
    tenant = membership.tenant
    connection = Connection.objects.filter(tenant=tenant).first()
    if "connection_form" not in forms:
        initial = {name: getattr(connection, name) for name in services.SETTINGS_FIELDS} if connection else None
        forms["connection_form"] = ConnectionForm(initial=initial, connection=connection)
    if "enforcement_form" not in forms:
        exempt = Membership.objects.filter(tenant=tenant, sso_exempt=True).values_list("user_id", flat=True)
        forms["enforcement_form"] = EnforcementForm(
            initial={"required": tenant.sso_required, "exempt": [str(pk) for pk in exempt]}, tenant=tenant
        )
    forms.setdefault("domain_form", DomainForm())
    context = {
        "tenant": tenant,
        "membership": membership,
        "active_tab": "sso",
        "connection": connection,
        "domains": list(ClaimedDomain.objects.filter(tenant=tenant)),
        "redirect_uri": request.build_absolute_uri(
            reverse("openid_connect_callback", kwargs={"provider_id": f"sso-{tenant.code}"})
        ),
        "saml": saml.sp_urls(request, tenant.code),
        "scim_url": request.build_absolute_uri("/scim/v2"),
        "scim_token": ScimToken.objects.filter(tenant=tenant).first(),
        **forms,
    }
    return render(request, "sso/settings.html", context, status=status)


@require_GET
def sso_settings(request: HttpRequest, code: str) -> HttpResponse:
    membership = require_role(membership_for(request, code), Role.ADMIN)
    return _render_settings(request, membership)


@require_POST
@recent_auth_required(form_page=_settings_page)
def sso_configure(request: HttpRequest, code: str) -> HttpResponse:
    membership = require_role(membership_for(request, code), Role.ADMIN)
    connection = Connection.objects.filter(tenant=membership.tenant).first()
    form = ConnectionForm(request.POST, connection=connection)
    if not form.is_valid():
        return _render_settings(request, membership, status=400, connection_form=form)
    services.connection_save(
        tenant=membership.tenant,
        audit=Audit.of(request),
        settings=form.settings(),
        secret=form.cleaned_data["client_secret"],
    )
    messages.success(request, gettext("The identity provider is saved."))
    return redirect("sso:settings", code=code)


@require_POST
@recent_auth_required(form_page=_settings_page)
def sso_enforce(request: HttpRequest, code: str) -> HttpResponse:
    membership = require_role(membership_for(request, code), Role.ADMIN)
    form = EnforcementForm(request.POST, tenant=membership.tenant)
    if form.is_valid() and form.cleaned_data["required"]:
        if not Connection.objects.filter(tenant=membership.tenant, is_enabled=True).exists():
            form.add_error("required", gettext("Set up and turn on the identity provider first."))
        elif membership.user_id not in form.cleaned_data["exempt"] and not signed_in_through(request, code):
            form.add_error("exempt", gettext("Sign in with SSO first, or keep yourself as a break-glass admin."))
    if not form.is_valid():
        return _render_settings(request, membership, status=400, enforcement_form=form)
    services.enforcement_set(
        tenant=membership.tenant,
        audit=Audit.of(request),
        required=form.cleaned_data["required"],
        exempt_user_ids=form.cleaned_data["exempt"],
    )
    messages.success(request, gettext("The sign-in requirement is saved."))
    return redirect("sso:settings", code=code)


@require_POST
@recent_auth_required(form_page=_settings_page)
def domain_add(request: HttpRequest, code: str) -> HttpResponse:
    membership = require_role(membership_for(request, code), Role.ADMIN)
    form = DomainForm(request.POST)
    if form.is_valid():
        try:
            services.domain_claim(tenant=membership.tenant, audit=Audit.of(request), domain=form.cleaned_data["domain"])
        except services.DomainError as exc:
            form.add_error("domain", str(exc))
    if not form.is_valid():
        return _render_settings(request, membership, status=400, domain_form=form)
    messages.success(
        request,
        gettext("%(domain)s is claimed: publish its TXT record, then check it.")
        % {"domain": form.cleaned_data["domain"]},
    )
    return redirect("sso:settings", code=code)


@require_POST
def domain_verify(request: HttpRequest, code: str, domain_id: int) -> HttpResponse:
    """Look the claim's TXT record up. No re-authentication: the public record is the proof."""
    membership = require_role(membership_for(request, code), Role.ADMIN)
    claimed = get_object_or_404(ClaimedDomain, tenant=membership.tenant, pk=domain_id)
    try:
        proved = domains.proved_by_dns(claimed)
    except domains.DnsUnavailable:
        messages.error(
            request, gettext("DNS cannot be reached from the portal: ask your operator to confirm the domain.")
        )
        return redirect("sso:settings", code=code)
    if not proved:
        messages.error(
            request,
            gettext("No TXT record %(record)s at %(name)s yet.")
            % {"record": claimed.txt_record, "name": claimed.txt_name},
        )
        return redirect("sso:settings", code=code)
    try:
        services.domain_verified(claimed=claimed, audit=Audit.of(request), proof=ClaimedDomain.Proof.DNS)
    except services.DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, gettext("%(domain)s is proved.") % {"domain": claimed.domain})
    return redirect("sso:settings", code=code)


@require_POST
@recent_auth_required(form_page=_settings_page)
def domain_remove(request: HttpRequest, code: str, domain_id: int) -> HttpResponse:
    membership = require_role(membership_for(request, code), Role.ADMIN)
    claimed = get_object_or_404(ClaimedDomain, tenant=membership.tenant, pk=domain_id)
    services.domain_remove(claimed=claimed, audit=Audit.of(request))
    messages.success(request, gettext("%(domain)s is no longer claimed.") % {"domain": claimed.domain})
    return redirect("sso:settings", code=code)


@require_POST
@recent_auth_required(form_page=_settings_page)
def scim_token_issue(request: HttpRequest, code: str) -> HttpResponse:
    """A new SCIM token, shown once on the page this POST answers (never in a redirect, the
    session or a message)."""
    membership = require_role(membership_for(request, code), Role.ADMIN)
    token = services.scim_token_issue(tenant=membership.tenant, audit=Audit.of(request))
    response = _render_settings(request, membership, new_scim_token=token)
    add_never_cache_headers(response)
    return response


@require_POST
@recent_auth_required(form_page=_settings_page)
def scim_token_revoke(request: HttpRequest, code: str) -> HttpResponse:
    membership = require_role(membership_for(request, code), Role.ADMIN)
    services.scim_token_revoke(tenant=membership.tenant, audit=Audit.of(request))
    messages.success(request, gettext("The SCIM token is revoked: the identity provider can no longer provision."))
    return redirect("sso:settings", code=code)
