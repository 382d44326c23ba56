"""Key hygiene pages (admins only): a key's settings (allowed networks and a rate limit;
allowed web origins for Storefront and custom keys; for custom keys an expiry date and a token lifetime),
disabling and enabling a key, and reporting a leaked secret by pasting it."""

import uuid
from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.reauth import reauthentication_needed, recent_auth_required
from activity.audit import Audit
from tenants.access import membership_for, require_role
from tenants.models import Membership, Role

from .. import limits, services
from ..forms import KeyMetadataForm, KeySettingsForm, LeakReportForm
from ..leaks import secret_leak_report
from ..models import ApiKey, KeyKind
from .listing import KEY_BUSY, NOTICE_ANCHOR, form_needs_reauthentication, notice_next_to_key


def _admin_key(request: HttpRequest, code: str, key_id: uuid.UUID) -> tuple[Membership, ApiKey]:
    membership = require_role(membership_for(request, code), Role.ADMIN)
    key = get_object_or_404(ApiKey.objects.select_related("tenant"), tenant=membership.tenant, public_id=key_id)
    return membership, key


def _row_url(key: ApiKey) -> str:
    return reverse("apikeys:list", kwargs={"code": key.tenant.code}) + f"#key-{key.public_id}"


def _list_url(key: ApiKey) -> str:
    return reverse("apikeys:list", kwargs={"code": key.tenant.code})


def _settings_url(request: HttpRequest, code: str, key_id: uuid.UUID) -> str:
    """Where a re-authentication for disabling or enabling returns: the key's settings page."""
    return reverse("apikeys:settings", kwargs={"code": code, "key_id": key_id})


def _context(
    membership: Membership, key: ApiKey, form: KeySettingsForm | None, metadata_form: KeyMetadataForm | None = None
) -> dict:
    now = timezone.now()
    refused = sum(
        key.network_refusals.filter(window_start__gte=now - timedelta(hours=24)).values_list("count", flat=True)
    )
    return {
        "membership": membership,
        "tenant": membership.tenant,
        "key": key,
        "form": form,
        "metadata_form": metadata_form or KeyMetadataForm(key=key),
        "active_tab": "keys",
        "refused_last_day": refused,
        "rate_limited": limits.reached([key.pk], now).get(key.pk, limits.NEVER),
        "dormant": key.is_dormant(now),
        "expired": key.is_expired(now),
        **disable_context(key),
    }


def _settings_save(key: ApiKey, cleaned: dict, audit: Audit) -> None:
    services.key_networks_set(key=key, allowed_networks=cleaned["allowed_networks"], audit=audit)
    if "allowed_origins" in cleaned:
        services.key_origins_set(key=key, allowed_origins=cleaned["allowed_origins"], audit=audit)
    services.key_rate_limit_set(key=key, limit=cleaned["rate_limit"], period=cleaned["rate_limit_period"], audit=audit)
    if key.is_custom:
        services.key_expiry_set(key=key, expires_at=cleaned["expires_at"], audit=audit)
        minutes = cleaned["token_lifetime_minutes"]
        services.key_token_lifetime_set(key=key, seconds=minutes * 60 if minutes else None, audit=audit)


@never_cache
@require_http_methods(["GET", "POST"])
def key_settings(request: HttpRequest, code: str, key_id: uuid.UUID) -> HttpResponse:
    """GET: the key's status and settings. POST: save them (each change is its own activity
    entry), back to the key's row. Both need a recent authentication (the form is asked for
    before the user types in it)."""
    membership, key = _admin_key(request, code, key_id)
    if reauth := form_needs_reauthentication(request):
        return reauth
    if request.method == "POST" and request.POST.get("part") == "metadata":
        return _metadata_save(request, membership, key)
    form = KeySettingsForm(request.POST if request.method == "POST" else None, key=key)
    if request.method != "POST" or not form.is_valid():
        return render(
            request, "apikeys/key_settings.html", _context(membership, key, form), status=400 if form.is_bound else 200
        )
    audit = Audit.of(request)
    try:
        with transaction.atomic():  # all of the form or nothing: with a bad date the networks are not saved either
            _settings_save(key, form.cleaned_data, audit)
    except (ValueError, ValidationError) as error:
        form.add_error(None, error.messages[0] if isinstance(error, ValidationError) else str(error))
        return render(request, "apikeys/key_settings.html", _context(membership, key, form), status=400)
    except services.KeyBusy:
        form.add_error(None, str(KEY_BUSY))
        return render(request, "apikeys/key_settings.html", _context(membership, key, form), status=409)
    notice_next_to_key(request, key, gettext("Settings of %(name)s saved.") % {"name": key.name})
    return redirect(_list_url(key) + NOTICE_ANCHOR)


def _metadata_save(request: HttpRequest, membership: Membership, key: ApiKey) -> HttpResponse:
    """The settings page's "What it is for" card: description, owner, environment, labels."""
    metadata_form = KeyMetadataForm(request.POST, key=key)
    if not metadata_form.is_valid():
        context = _context(membership, key, KeySettingsForm(key=key), metadata_form)
        return render(request, "apikeys/key_settings.html", context, status=400)
    try:
        services.key_metadata_set(key=key, metadata=metadata_form.metadata(), audit=Audit.of(request))
    except ValueError:  # the owner left the tenant since the form was checked
        metadata_form.add_error("owner", gettext("The owner must be a member of the tenant."))
        context = _context(membership, key, KeySettingsForm(key=key), metadata_form)
        return render(request, "apikeys/key_settings.html", context, status=400)
    except services.KeyBusy:
        metadata_form.add_error(None, str(KEY_BUSY))
        context = _context(membership, key, KeySettingsForm(key=key), metadata_form)
        return render(request, "apikeys/key_settings.html", context, status=409)
    notice_next_to_key(request, key, gettext("What %(name)s is for saved.") % {"name": key.name})
    return redirect(_list_url(key) + NOTICE_ANCHOR)


def _switch(request: HttpRequest, key: ApiKey, service, done: str) -> HttpResponse:
    try:
        service(key=key, audit=Audit.of(request))
    except services.KeyBusy:
        messages.error(request, str(KEY_BUSY))
        return redirect(_row_url(key))
    notice_next_to_key(request, key, str(done) % {"name": key.name})
    return redirect(_list_url(key) + NOTICE_ANCHOR)


# What disabling costs, said before it is done: on the confirmation page and in its dialog.
# The built-in keys get the stronger words: every integration of the tenant may use them.
BUILTIN_DISABLE_WARNING = {
    KeyKind.EMPORIX: gettext_lazy(
        "This is the tenant's Emporix API key: it holds every scope of every service, so every "
        "backend, integration and script that uses it stops working at once."
    ),
    KeyKind.STOREFRONT: gettext_lazy(
        "This is the tenant's Storefront API key: every shop front-end that uses it stops "
        "working at once, and shoppers can no longer start sessions."
    ),
}
TOKENS_STAY_REVOKED = gettext_lazy(
    "Its secrets and every access token it issued stop working at once. Enabling it again makes its "
    "secrets work again, but the access tokens issued before stay revoked: its clients must request new ones."
)


def disable_context(key: ApiKey) -> dict:
    """The confirmation's words for `key` (the page and the settings page's dialog)."""
    return {"builtin_warning": BUILTIN_DISABLE_WARNING.get(key.kind), "tokens_stay_revoked": TOKENS_STAY_REVOKED}


@never_cache
@require_http_methods(["GET", "POST"])
def key_disable(request: HttpRequest, code: str, key_id: uuid.UUID) -> HttpResponse:
    """GET: the confirmation (the page without JavaScript; the settings page's dialog with it).
    POST with `confirm=disable` (what the confirmation's button sends): disable the key (it
    keeps its secrets), back to its row with a notice beside it. A POST without it (an old form,
    a script) is asked again instead of disabling."""
    membership, key = _admin_key(request, code, key_id)
    if request.method == "POST":
        if reauth := reauthentication_needed(request, form_page=_settings_url, code=code, key_id=key_id):
            return reauth
        if request.POST.get("confirm") == "disable":
            return _switch(
                request,
                key,
                services.key_disable,
                gettext_lazy("%(name)s is disabled: its secrets and access tokens no longer work."),
            )
    if key.is_disabled:
        return redirect(_settings_url(request, code, key_id))
    context = {**_context(membership, key, None), **disable_context(key)}
    return render(request, "apikeys/key_disable.html", context)


@require_POST
@recent_auth_required(form_page=_settings_url)
def key_enable(request: HttpRequest, code: str, key_id: uuid.UUID) -> HttpResponse:
    """Enable the key again; its earlier tokens stay inactive."""
    _, key = _admin_key(request, code, key_id)
    return _switch(
        request,
        key,
        services.key_enable,
        gettext_lazy("%(name)s is enabled again; access tokens it issued before stay revoked."),
    )


@never_cache
@require_http_methods(["GET", "POST"])
def leak_report(request: HttpRequest, code: str) -> HttpResponse:
    """GET: a form to paste a secret that leaked. POST: if it is a working secret of this
    tenant it stops at once (as a secret-scanning report would do); other tenants' secrets
    are never matched, and nothing is said about what a non-match is. The form needs a recent
    authentication too: the pasted secret is never kept anywhere for after a re-authentication,
    so the user re-authenticates before pasting it."""
    membership = require_role(membership_for(request, code), Role.ADMIN)
    if reauth := form_needs_reauthentication(request):
        return reauth
    form = LeakReportForm(request.POST if request.method == "POST" else None)
    context = {"membership": membership, "tenant": membership.tenant, "form": form, "active_tab": "keys"}
    if request.method != "POST" or not form.is_valid():
        return render(request, "apikeys/leak_report.html", context, status=400 if form.is_bound else 200)
    outcome = secret_leak_report(
        candidate=form.cleaned_data["secret"],
        url=form.cleaned_data["where"],
        source="reported by a tenant admin",
        tenant_code=membership.tenant.code,
        audit=Audit.of(request),
    )
    if not outcome.matched:
        form = LeakReportForm()  # the pasted value is not sent back
        context.update(form=form, no_match=True)
        return render(request, "apikeys/leak_report.html", context, status=200)
    if outcome.stopped:
        messages.success(
            request,
            gettext(
                "That secret of %(name)s no longer works. The key has a new secret: reveal it and give it "
                "to the key's clients."
            )
            % {"name": outcome.key.name},
        )
    else:
        messages.success(
            request,
            gettext("That secret of %(name)s had already stopped working; nothing changed.")
            % {"name": outcome.key.name},
        )
    return redirect(_row_url(outcome.key))
