"""The Manage API Keys list and what is done from it: reveal and copy a secret, renew a key,
retire an old secret. No secret is in any page until an admin or developer asks for it with a
POST; the response that carries it is `no-store`."""

import time
import uuid
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.reauth import reauthentication_needed, recent_auth_required
from activity.audit import Audit
from portal import ratelimit
from portal.http import wants_json
from portal.views import rate_limited
from scopes.models import Scope
from tenants.access import membership_for, require_role
from tenants.models import Membership, Role, Tenant

from .. import services
from ..auth import held_scope_names
from ..forms import RenewForm
from ..models import GRACE_PERIODS, ApiKey, ApiSecret, KeyKind, TokenFormat

# Custom API keys are listed expanded when there are this many or fewer; more collapse into
# the group's summary until asked for (or until one of them has to be shown).
CUSTOM_OPEN_LIMIT = 10

# Under each group's heading.
GROUP_HELP = {
    KeyKind.EMPORIX: "Every scope of every service, for your own backend.",
    KeyKind.STOREFRONT: "The storefront scope set, for shop front-ends and anonymous shopper sessions.",
    KeyKind.CUSTOM: "Keys that hold just the scopes you choose.",
}


@dataclass(frozen=True)
class ShownSecret:
    """The one secret a response shows in place of the bullets."""

    secret_id: uuid.UUID
    plaintext: str


@dataclass(frozen=True)
class KeyRow:
    """One row of the list: a key with its live secrets and the names of the scopes it holds."""

    key: ApiKey
    current_secret: ApiSecret | None
    old_secrets: list[ApiSecret]  # in their grace period, the first to stop working first
    scope_names: tuple[str, ...]

    def holds(self, secret_id: uuid.UUID) -> bool:
        return any(s.public_id == secret_id for s in [self.current_secret, *self.old_secrets] if s)

    @property
    def token_format(self) -> str:
        """What the key's access tokens are, as the row says it: its choice, or the deployment's."""
        if self.key.token_format:
            return self.key.get_token_format_display()
        return f"Deployment default ({TokenFormat(settings.ACCESS_TOKEN_FORMAT).label})"


def _rows_for_list(tenant: Tenant) -> list[KeyRow]:
    """The tenant's keys with their live secrets and scope names, in a fixed number of queries
    however many keys and scopes there are."""
    keys = list(
        ApiKey.objects.filter(tenant=tenant)
        .prefetch_related(
            # Ciphertexts stay in the database: the list never decrypts.
            Prefetch("secrets", queryset=ApiSecret.objects.live().defer("ciphertext", "digest")),
            Prefetch("scopes", queryset=Scope.objects.only("id", "name")),
        )
        .order_by("created_at", "name")
    )
    rows = []
    for key in keys:
        live = list(key.secrets.all())
        rows.append(
            KeyRow(
                key=key,
                current_secret=next((s for s in live if s.expires_at is None), None),
                old_secrets=sorted((s for s in live if s.expires_at is not None), key=lambda s: s.expires_at),
                scope_names=held_scope_names(key),
            )
        )
    return rows


def _render_list(
    request: HttpRequest,
    membership: Membership,
    *,
    shown: ShownSecret | None = None,
) -> HttpResponse:
    """The list page, with `shown` (if any) in place of its secret's bullets."""
    tenant = membership.tenant
    rows = _rows_for_list(tenant)
    created = _uuid_or_none(request.GET.get("created"))
    groups = {kind: [row for row in rows if row.key.kind == kind] for kind in KeyKind}
    custom = groups[KeyKind.CUSTOM]
    custom_open = (
        not custom
        or len(custom) <= CUSTOM_OPEN_LIMIT
        or any(row.key.public_id == created for row in custom)
        or (shown is not None and any(row.holds(shown.secret_id) for row in custom))
    )
    return render(
        request,
        "apikeys/key_list.html",
        {
            "membership": membership,
            "tenant": tenant,
            "active_tab": "keys",
            "builtin_groups": [
                (kind, GROUP_HELP[kind], groups[kind]) for kind in (KeyKind.EMPORIX, KeyKind.STOREFRONT)
            ],
            "custom_kind": KeyKind.CUSTOM,
            "custom_help": GROUP_HELP[KeyKind.CUSTOM],
            "custom_rows": custom,
            "custom_open": custom_open,
            "created": created,
            "shown": shown,
            "can_see_secrets": membership.can_see_secrets,
            "is_admin": membership.is_admin,
            "grace_choices": GRACE_PERIODS,
        },
    )


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


# After a renew the list shows the new secret once. The session holds only which secret to
# show (its public id), never the secret, and the page that shows it is not stored.
SHOW_ONCE_SESSION_KEY = "apikeys:show-secret-once"


def key_list(request: HttpRequest, code: str) -> HttpResponse:
    """The Manage API Keys view: the tenant's keys grouped by kind. No secret is in it, except
    the new secret right after a renew, on the one page the renew redirects to."""
    membership = membership_for(request, code)
    shown = None
    once = _uuid_or_none(request.session.pop(SHOW_ONCE_SESSION_KEY, None))
    if once is not None and membership.is_admin:
        secret = (
            ApiSecret.objects.live().select_related("key").filter(key__tenant=membership.tenant, public_id=once).first()
        )
        try:
            shown = ShownSecret(secret.public_id, services.secret_plaintext(secret)) if secret else None
        except services.SecretUnreadable:
            messages.error(request, UNREADABLE)
    response = _render_list(request, membership, shown=shown)
    if shown is not None:
        add_never_cache_headers(response)
    return response


def _no_store(view):
    """Like never_cache, but for the refusals (403, 404) too: no answer of the secret endpoint
    is ever cached, by the browser or on the way."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except Http404 as exc:
            response = defaults.page_not_found(request, exc)
        except PermissionDenied as exc:
            response = defaults.permission_denied(request, exc)
        add_never_cache_headers(response)
        return response

    return wrapped


def _key_row_url(request: HttpRequest, code: str, key_id: uuid.UUID) -> str:
    """Where a reveal or copy returns after a re-authentication: the key's row in the list."""
    return reverse("apikeys:list", kwargs={"code": code}) + f"#key-{key_id}"


def post_needs_reauthentication(request: HttpRequest) -> HttpResponse | None:
    """For views whose GET is a form or a confirmation (free) and whose POST changes keys: the
    re-authentication answer if the POST needs one, returning to the GET of the same URL."""
    if request.method != "POST":
        return None
    return reauthentication_needed(request, form_page=lambda request: request.path)


@_no_store
@require_POST
@recent_auth_required(form_page=_key_row_url)
def secret_show(request: HttpRequest, code: str, key_id: uuid.UUID) -> HttpResponse:
    """Reveal or copy a secret: admins and developers only, recorded in the activity log.

    POST `purpose` (reveal, the default, or copy) and optionally `secret` (the public id of an
    old secret of this key still in its grace period; else the current one). With
    `Accept: application/json` the answer is `{"secret": ..., "client_id": ...}`; otherwise the
    list page with that secret shown. Past SECRET_SHOW_LIMIT_PER_USER in a window: 429 with
    Retry-After. Always `Cache-Control: no-store`."""
    membership = require_role(membership_for(request, code), Role.DEVELOPER)
    wait = ratelimit.hit(
        [ratelimit.Counter("secret:show:u", (str(request.user.pk),), settings.SECRET_SHOW_LIMIT_PER_USER)],
        window=settings.SECRET_SHOW_WINDOW,
        now=time.time(),
    )
    if wait is not None:
        text = f"Too many secrets shown; try again in {wait} seconds."
        if wants_json(request):
            response = JsonResponse({"error": text}, status=429)
            response["Retry-After"] = str(wait)
            return response
        return rate_limited(request, wait, "Too many secrets shown: revealing and copying secrets is limited per user.")
    key = get_object_or_404(ApiKey, tenant=membership.tenant, public_id=key_id)
    purpose = request.POST.get("purpose") or "reveal"
    if purpose not in services.SHOW_PURPOSES:
        return JsonResponse({"error": "purpose must be reveal or copy"}, status=400)
    secret_id = request.POST.get("secret")
    if secret_id:
        wanted = _uuid_or_none(secret_id)
        if wanted is None:
            return JsonResponse({"error": "secret must be the id of one of this key's secrets"}, status=400)
        secret = get_object_or_404(ApiSecret.objects.live(), key=key, public_id=wanted)
    else:
        secret = get_object_or_404(ApiSecret, key=key, expires_at__isnull=True)
    try:
        plaintext = services.secret_show(secret=secret, purpose=purpose, audit=Audit.of(request))
    except services.SecretUnreadable:
        return _unreadable(request, membership, key)
    if wants_json(request):
        return JsonResponse({"secret": plaintext, "client_id": key.client_id})
    return _render_list(request, membership, shown=ShownSecret(secret.public_id, plaintext))


UNREADABLE = (
    "This secret cannot be decrypted with the portal's encryption keys, so it cannot be shown. "
    "It still works for its clients. An operator must configure the encryption key it was stored "
    "with (see the activity log and `manage.py check --database default`), or an admin can renew the key."
)


def _unreadable(request: HttpRequest, membership: Membership, key: ApiKey) -> HttpResponse:
    """A clear answer (503: the server cannot do this now) instead of a 500."""
    if wants_json(request):
        return JsonResponse({"error": "secret_unreadable", "error_description": UNREADABLE}, status=503)
    context = {"membership": membership, "tenant": membership.tenant, "key": key, "message": UNREADABLE}
    return render(request, "apikeys/secret_unreadable.html", context, status=503)


@never_cache
@require_http_methods(["GET", "POST"])
def key_renew(request: HttpRequest, code: str, key_id: uuid.UUID) -> HttpResponse:
    """GET: a confirmation with the choice of when the old secret stops working. POST: renew,
    then redirect to the list, which shows the new secret this once (the secret is in no URL
    or session; the session holds only which secret to show)."""
    membership = require_role(membership_for(request, code), Role.ADMIN)
    key = get_object_or_404(ApiKey, tenant=membership.tenant, public_id=key_id)
    if reauth := post_needs_reauthentication(request):
        return reauth
    context = {
        "membership": membership,
        "tenant": membership.tenant,
        "key": key,
        "grace_choices": GRACE_PERIODS,
        "active_tab": "keys",
    }
    form = RenewForm(request.POST if request.method == "POST" else None)
    if not form.is_valid():
        status = 400 if form.is_bound else 200
        error = form.errors["grace"][0] if form.is_bound else None
        return render(request, "apikeys/key_renew.html", {**context, "grace": "now", "error": error}, status=status)
    try:
        _, secret, _plaintext = services.key_renew(key=key, grace=form.cleaned_data["grace"], audit=Audit.of(request))
    except services.KeyBusy as busy:
        context.update(grace=form.data.get("grace") or "now", error=str(busy))
        return render(request, "apikeys/key_renew.html", context, status=409)
    messages.success(request, "Key renewed")
    # Post/redirect/get, so that reloading the page cannot renew again.
    request.session[SHOW_ONCE_SESSION_KEY] = str(secret.public_id)
    return redirect(reverse("apikeys:list", kwargs={"code": membership.tenant.code}) + f"#key-{key.public_id}")


@require_http_methods(["GET", "POST"])
def secret_retire(request: HttpRequest, code: str, key_id: uuid.UUID, secret_id: uuid.UUID) -> HttpResponse:
    """GET: a confirmation (for browsers without JavaScript). POST: the old secret stops
    working now; back to the list with "Old secret retired"."""
    membership = require_role(membership_for(request, code), Role.ADMIN)
    key = get_object_or_404(ApiKey, tenant=membership.tenant, public_id=key_id)
    secret = get_object_or_404(ApiSecret.objects.live().filter(expires_at__isnull=False), key=key, public_id=secret_id)
    if request.method == "GET":
        return render(
            request,
            "apikeys/secret_retire.html",
            {"membership": membership, "tenant": membership.tenant, "key": key, "secret": secret, "active_tab": "keys"},
        )
    if reauth := post_needs_reauthentication(request):
        return reauth
    services.secret_retire(secret=secret, audit=Audit.of(request))
    messages.success(request, "Old secret retired")
    return redirect(reverse("apikeys:list", kwargs={"code": membership.tenant.code}) + f"#key-{key.public_id}")
