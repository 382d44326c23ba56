"""The Manage API Keys list and what is done from it: reveal and copy a secret, renew a key,
retire an old secret. No secret is in any page until an admin or developer asks for it with a
POST; the response that carries it is `no-store`."""

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import wraps
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext, gettext_lazy
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.reauth import reauthentication_needed, recent_auth_required
from activity.audit import Audit
from kernel import ratelimit
from kernel.dates import wait_text
from kernel.http import wants_json
from kernel.views import rate_limited
from scopes.models import Scope
from tenants.access import membership_for, require_role
from tenants.models import Membership, Role, Tenant

from .. import services
from ..auth import held_scope_names
from ..columns import KeyColumn, key_column_values, key_columns
from ..filters import KeyListFilter
from ..forms import RenewForm
from ..key_links import key_links, tenant_links
from ..models import BUILTIN_KINDS, GRACE_PERIODS, ApiKey, ApiSecret, KeyKind, TokenFormat
from ..scope_summary import NO_OPERATION_NOTE, HeldScope, ScopeSummary, ServiceScopes, scope_summary

# Custom keys come a page at a time: a table of TABLE_PAGE_SIZE rows, or (the layout for a
# handful of keys, or chosen with ?view=cards) cards, CARDS_PAGE_SIZE at a time.
TABLE_PAGE_SIZE = 20
CARDS_PAGE_SIZE = 10
CARDS_UP_TO = 5  # custom keys listed as cards when no parameter asks otherwise
# A table row lists this many scope names at most; the card view lists all of them.
TABLE_SCOPE_NAMES = 12

# Under each group's heading.
GROUP_HELP = {
    KeyKind.EMPORIX: gettext_lazy("Every scope of every service, for your own backend."),
    KeyKind.STOREFRONT: gettext_lazy("The storefront scope set, for shop front-ends and anonymous shopper sessions."),
    KeyKind.CUSTOM: gettext_lazy("Keys that hold just the scopes you choose."),
}


# The create button's label, in Emporix's words: "Create scopes" while the tenant has no custom
# key, "Add custom API" once it has one.
CREATE_LABELS = {False: gettext_lazy("Create scopes"), True: gettext_lazy("Add custom API")}


@dataclass(frozen=True)
class ShownSecret:
    """The one secret a response shows in place of the bullets."""

    secret_id: uuid.UUID
    plaintext: str
    key_id: uuid.UUID  # the public id of its key, whose row must be on the page


@dataclass(frozen=True)
class KeyRow:
    """One row of the list: a key with its live secrets and the names of the scopes it holds."""

    key: ApiKey
    current_secret: ApiSecret | None
    old_secrets: list[ApiSecret]  # in their grace period, the first to stop working first
    scope_names: tuple[str, ...]
    scopes: ScopeSummary  # the same names grouped by service, with the operations they open
    urls: dict[str, str]  # the key's pages and endpoints: get_started, secret, renew, edit, delete, settings, scopes
    states: tuple[tuple[str, str], ...]  # (label, badge style) of its hygiene state: disabled, expired, ...
    # What apps above this one show of the key (apikeys.columns): (column, value) each.
    columns: list[tuple[KeyColumn, object]] = field(default_factory=list)

    @property
    def scope_preview(self) -> list[tuple[ServiceScopes, tuple[HeldScope, ...]]]:
        """The table's popover: services in order with their scopes, TABLE_SCOPE_NAMES names at most."""
        preview, left = [], TABLE_SCOPE_NAMES
        for service in self.scopes.services:
            if left <= 0:
                break
            preview.append((service, service.scopes[:left]))
            left -= len(service.scopes)
        return preview

    @property
    def scopes_not_previewed(self) -> int:
        return max(0, len(self.scope_names) - TABLE_SCOPE_NAMES)

    @property
    def links(self) -> list[tuple[str, str, str]]:
        """(text, accessible name, URL) of the links other apps add to the row (apikeys.key_links)."""
        return [(link.text, link.label.format(self.key.name), self.urls[link.name]) for link in key_links()]

    @property
    def networks(self) -> list[str]:
        """The key's allowed networks (apikeys.networks), one CIDR each; none: any address."""
        return self.key.allowed_networks.split("\n") if self.key.allowed_networks else []

    @property
    def token_format(self) -> str:
        """What the key's access tokens are, as the row says it: its choice, or the deployment's."""
        if self.key.token_format:
            return self.key.get_token_format_display()
        return gettext("Deployment default (%(format)s)") % {"format": TokenFormat(settings.ACCESS_TOKEN_FORMAT).label}


def _with_secrets_and_scopes(keys: QuerySet[ApiKey]) -> QuerySet[ApiKey]:
    return keys.select_related("owner").prefetch_related(
        # Ciphertexts stay in the database: the list never decrypts.
        Prefetch("secrets", queryset=ApiSecret.objects.live().defer("ciphertext", "digest")),
        Prefetch("scopes", queryset=Scope.objects.only("id", "name")),
    )


# Each row links to five URLs of its key; resolving them per row is most of a table's
# rendering time, so each is reversed once per page with this placeholder for the key's id.
_ANY_KEY = uuid.UUID(int=0)
KEY_URL_NAMES = ("get_started", "secret", "renew", "edit", "delete", "settings", "scopes")


def _key_urls(code: str) -> dict[str, str]:
    urls = {name: reverse(f"apikeys:{name}", kwargs={"code": code, "key_id": _ANY_KEY}) for name in KEY_URL_NAMES}
    for link in key_links():  # the apps above's links (apikeys.key_links)
        urls[link.name] = reverse(link.view_name, kwargs={"code": code, "key_id": _ANY_KEY})
    return urls


def key_states(key: ApiKey, tenant: Tenant, now: datetime) -> tuple[tuple[str, str], ...]:
    """What a row says of a key's hygiene (apikeys/hygiene.py): disabled, expired or not
    renewed in time, expiring within a week, unused for the tenant's dormant period."""
    states = []
    if key.disabled_at is not None:
        states.append((STATE_LABELS["disabled"], "danger"))
    if key.expires_at is not None and key.expires_at <= now:
        states.append((STATE_LABELS["expired"], "danger"))
    elif key.renew_by is not None and key.renew_by <= now:
        states.append((STATE_LABELS["not_renewed"], "danger"))
    elif any(moment is not None and moment <= now + SOON for moment in (key.expires_at, key.renew_by)):
        states.append((STATE_LABELS["expires_soon"], "warning"))
    if key.is_dormant(now, tenant):
        states.append((STATE_LABELS["unused"], "warning"))
    return tuple(states)


SOON = timedelta(days=7)
# The states' badges (lazy: translated where a page renders them, once per label and page).
STATE_LABELS = {
    "disabled": gettext_lazy("Disabled"),
    "expired": gettext_lazy("Expired"),
    "not_renewed": gettext_lazy("Not renewed in time"),
    "expires_soon": gettext_lazy("Expires soon"),
    "unused": gettext_lazy("Unused"),
}


def _rows(
    keys: Iterable[ApiKey], tenant: Tenant, now: datetime, columns: dict[int, list[tuple[KeyColumn, object]]]
) -> list[KeyRow]:
    """Rows for keys fetched through _with_secrets_and_scopes (no further query), with their
    `columns` values (key_column_values)."""
    templates = _key_urls(tenant.code)
    placeholder = str(_ANY_KEY)
    rows = []
    for key in keys:
        key_id = str(key.public_id)
        live = list(key.secrets.all())
        rows.append(
            KeyRow(
                key=key,
                current_secret=next((s for s in live if s.expires_at is None), None),
                old_secrets=sorted((s for s in live if s.expires_at is not None), key=lambda s: s.expires_at),
                scope_names=(names := held_scope_names(key)),
                scopes=scope_summary(names),
                urls={name: url.replace(placeholder, key_id) for name, url in templates.items()},
                states=key_states(key, tenant, now),
                columns=columns.get(key.pk, []),
            )
        )
    return rows


def _link(query: dict, **changes) -> str:
    """`?…` for the list with `query` changed by `changes`, leaving out default values."""
    merged = {**query, **changes}
    params = {
        name: ("1" if value is True else value)
        for name, value in merged.items()
        if value not in (None, "", False) and value != KeyListFilter.DEFAULTS.get(name)
    }
    return "?" + urlencode(params) if params else "?"


@dataclass(frozen=True)
class Column:
    label: str
    sort: str | None  # the parameter value that sorts by it ascending; None: not sortable


COLUMNS = (
    Column(gettext_lazy("Name"), "name"),
    Column(gettext_lazy("Client ID"), None),
    Column(gettext_lazy("Secret"), None),
    Column(gettext_lazy("Scopes"), None),
    Column(gettext_lazy("Last used"), "last_used"),  # creation date: in the card layout, and a sort order
)


def _sort_headers(query: dict) -> list[dict]:
    """Per column: its label, and for sortable ones the link that sorts by it (the other way
    round when it is the current sort) and its aria-sort."""
    headers = []
    for column in COLUMNS:
        header = {"label": column.label, "url": None, "aria_sort": None}
        if column.sort:
            current = query["sort"].lstrip("-") == column.sort
            descending = query["sort"].startswith("-")
            next_sort = ("" if descending else "-") + column.sort if current else column.sort
            header["url"] = _link(query, sort=next_sort, page=None)
            if current:
                header["aria_sort"] = "descending" if descending else "ascending"
        headers.append(header)
    return headers


def _selects(form: forms.Form, query: dict) -> list[dict]:
    """The search form's drop-downs, each option marked if it is the value in effect."""
    return [
        {
            "name": name,
            "label": form.fields[name].label,
            "options": [
                (str(value), label, str(value) == str(query[name] or "")) for value, label in form.fields[name].choices
            ],
        }
        for name in ("kind", "environment", "owner", "unused", "sort")
    ]


def tenant_members(tenant: Tenant) -> list[tuple[int, str]]:
    """The tenant's members as (user id, e-mail), for the owner filter: one query."""
    return list(Membership.objects.filter(tenant=tenant).order_by("user__email").values_list("user_id", "user__email"))


def _render_list(
    request: HttpRequest,
    membership: Membership,
    *,
    shown: ShownSecret | None = None,
    notice: dict | None = None,
) -> HttpResponse:
    """The list page, with `shown` (if any) in place of its secret's bullets. Built-in keys
    are cards; custom keys (or what the parameters ask for) come a page at a time, in a fixed
    number of queries however many keys there are."""
    tenant = membership.tenant
    now = timezone.now()
    found = KeyListFilter(request.GET, ApiKey.objects.filter(tenant=tenant), now=now, owners=tenant_members(tenant))
    form = found.form
    query = found.values()
    created = _uuid_or_none(request.GET.get("created"))
    # The key that must be seen whatever the page: just created, renewed or revealed.
    focus = shown.key_id if shown else (_uuid_or_none(notice["key"]) if notice else None) or created

    fixed = list(
        _with_secrets_and_scopes(
            ApiKey.objects.filter(tenant=tenant).filter(Q(kind__in=BUILTIN_KINDS) | Q(public_id=focus))
        ).order_by("kind", "pk")
    )
    pinned_count = sum(1 for key in fixed if key.is_custom)

    custom_total = ApiKey.objects.filter(tenant=tenant, kind=KeyKind.CUSTOM).count()
    searching = any(query[name] != KeyListFilter.DEFAULTS[name] for name in KeyListFilter.NARROWING)
    view = query["view"] or ("cards" if custom_total <= CARDS_UP_TO and not searching else "table")
    matching = found.qs
    if pinned_count:
        matching = matching.exclude(public_id=focus)
    paginator = Paginator(matching, TABLE_PAGE_SIZE if view == "table" else CARDS_PAGE_SIZE)
    if not searching:
        paginator.count = custom_total - pinned_count  # the same count: no second query
    page = paginator.get_page(request.GET.get("page"))
    page_keys = list(_with_secrets_and_scopes(page.object_list))
    # The other apps' columns, for every key the page shows at once.
    columns = key_column_values(fixed + page_keys, tenant, now)
    fixed_rows = _rows(fixed, tenant, now, columns)
    builtin = {kind: [row for row in fixed_rows if row.key.kind == kind] for kind in BUILTIN_KINDS}
    pinned = [row for row in fixed_rows if row.key.is_custom]
    rows = _rows(page_keys, tenant, now, columns)
    query["page"] = page.number if page.number > 1 else None

    response = render(
        request,
        "apikeys/key_list.html",
        {
            "membership": membership,
            "tenant": tenant,
            "active_tab": "keys",
            "builtin_groups": [(kind, GROUP_HELP[kind], builtin[kind]) for kind in BUILTIN_KINDS],
            "custom_kind": KeyKind.CUSTOM,
            "custom_help": GROUP_HELP[KeyKind.CUSTOM],
            "custom_total": custom_total,
            "create_label": CREATE_LABELS[bool(custom_total)],
            "rows": rows,
            "pinned": pinned,
            "page": page,
            "view": view,
            "query": query,
            "form": form,
            "selects": _selects(form, query),
            "ignored": found.ignored(),
            "searching": searching,
            "headers": _sort_headers(query),
            "key_columns": key_columns(),
            # The table's width in cells, for the notice row under a key.
            "table_columns": len(COLUMNS) + 1 + membership.is_admin + len(key_columns()),
            "links": {
                "previous": _link(query, page=page.previous_page_number() if page.number > 2 else None)
                if page.has_previous()
                else None,
                "next": _link(query, page=page.next_page_number()) if page.has_next() else None,
                "first": _link(query, page=None) if page.number > 2 else None,
                "last": _link(query, page=paginator.num_pages) if page.number < paginator.num_pages - 1 else None,
                "table": _link(query, view="table", page=None),
                "cards": _link(query, view="cards", page=None),
                "clear": _link({}, view=query["view"]),
                # The inventory export of what the list shows (issue 20).
                "export": reverse("apikeys:export", kwargs={"code": tenant.code}) + _link(query, page=None, view=None),
            },
            # Bulk actions (issue 20): the search the "all matching" choice repeats.
            "bulk_filters": [
                (name, "1" if query[name] is True else str(query[name]))
                for name in KeyListFilter.NARROWING
                if query[name] not in (None, "", False) and query[name] != KeyListFilter.DEFAULTS[name]
            ],
            "page_key_count": len(pinned) + len(rows),
            "focus": focus,
            "created": created,
            "notice": notice,
            "shown": shown,
            "can_see_secrets": membership.can_see_secrets,
            "is_admin": membership.is_admin,
            "grace_choices": GRACE_PERIODS,
            "default_grace": DEFAULT_GRACE,
            "no_operation_note": NO_OPERATION_NOTE,
            "attention": _attention(tenant, now),
            "tenant_links": [
                (text, reverse(view_name, kwargs={"code": tenant.code})) for view_name, text in tenant_links().items()
            ],
        },
    )
    if shown is not None:
        add_never_cache_headers(response)
    return response


ATTENTION_NAMES = 5


def _attention(tenant: Tenant, now: datetime) -> dict:
    """Keys that stop working within a week (expiry or renew-by) and disabled keys, for the
    line above the list: a count and the first few, in one query."""
    soon = Q(expires_at__gt=now, expires_at__lte=now + SOON) | Q(renew_by__gt=now, renew_by__lte=now + SOON)
    rows = list(
        ApiKey.objects.filter(tenant=tenant)
        .filter(Q(disabled_at__isnull=True) & soon | Q(disabled_at__isnull=False))
        .order_by("disabled_at", "name")
        .values_list("name", "public_id", "disabled_at")[:200]
    )
    expiring = [(name, public_id) for name, public_id, disabled in rows if disabled is None]
    disabled = [(name, public_id) for name, public_id, disabled in rows if disabled is not None]
    return {
        "expiring": expiring[:ATTENTION_NAMES],
        "expiring_count": len(expiring),
        "disabled": disabled[:ATTENTION_NAMES],
        "disabled_count": len(disabled),
    }


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except (ValueError, TypeError, AttributeError):
        return None


# What the renew form offers first: a grace period, never the destructive "now".
DEFAULT_GRACE = "24h"

# After a renew the list shows the new secret once. The session holds only which secret to
# show (its public id), never the secret, and the page that shows it is not stored.
SHOW_ONCE_SESSION_KEY = "apikeys:show-secret-once"
# What happened to which key (created, renewed, saved), said next to that key on the next list.
NOTICE_SESSION_KEY = "apikeys:notice"
# The notice is the fragment the list opens at: the browser scrolls to it and focuses it
# (it has tabindex=-1), with or without JavaScript.
NOTICE_ANCHOR = "#key-notice"


def notice_next_to_key(request: HttpRequest, key: ApiKey, text: str, *, secret: ApiSecret | None = None) -> None:
    """Say `text` beside `key` on the next list page, and with `secret` (a new one) show it
    there once (admins only; the session holds its id, never the secret)."""
    request.session[NOTICE_SESSION_KEY] = {"key": str(key.public_id), "text": text, "new_secret": secret is not None}
    if secret is not None:
        request.session[SHOW_ONCE_SESSION_KEY] = str(secret.public_id)


def key_list(request: HttpRequest, code: str) -> HttpResponse:
    """The Manage API Keys view: the tenant's keys grouped by kind. No secret is in it, except
    the new secret right after a renew, on the one page the renew redirects to."""
    membership = membership_for(request, code)
    shown = None
    notice = request.session.pop(NOTICE_SESSION_KEY, None)
    once = _uuid_or_none(request.session.pop(SHOW_ONCE_SESSION_KEY, None))
    if once is not None and membership.is_admin:
        secret = (
            ApiSecret.objects.live().select_related("key").filter(key__tenant=membership.tenant, public_id=once).first()
        )
        try:
            if secret:
                shown = ShownSecret(secret.public_id, services.secret_plaintext(secret), secret.key.public_id)
        except services.SecretUnreadable:
            messages.error(request, UNREADABLE)
    if not isinstance(notice, dict) or not isinstance(notice.get("text"), str):
        notice = None
    return _render_list(request, membership, shown=shown, notice=notice)


# What fetch() is told (static/js/secret.js shows it), in the words of the pages without JavaScript.
SECRET_GONE = gettext_lazy("This key or secret no longer exists, or you no longer have access to it. Reload the page.")
ROLE_TOO_LOW = gettext_lazy("Your role in this tenant does not allow this. Ask one of its admins.")
SHOWN_TOO_OFTEN = gettext_lazy("Too many secrets shown: revealing and copying secrets is limited per user.")
# services.KeyBusy, as the pages say it (its own message is the API's, in English).
KEY_BUSY = gettext_lazy("This key is being changed by someone else; try again.")


def _no_store(view):
    """Like never_cache, but for the refusals (403, 404) too: no answer of the secret endpoint
    is ever cached, by the browser or on the way."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except Http404 as exc:
            response = (
                JsonResponse({"error": "not_found", "message": SECRET_GONE}, status=404)
                if wants_json(request)
                else defaults.page_not_found(request, exc)
            )
        except PermissionDenied as exc:
            response = (
                JsonResponse({"error": "forbidden", "message": ROLE_TOO_LOW}, status=403)
                if wants_json(request)
                else defaults.permission_denied(request, exc)
            )
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


def form_needs_reauthentication(request: HttpRequest) -> HttpResponse | None:
    """For views whose GET is a form the user fills in (a key's form, its settings, a leak
    report) and whose POST changes keys: the re-authentication answer for either, returning to
    the GET of the same URL. Asking before the form is shown keeps what the user types: after
    the re-authentication they come back to an empty form they have not filled in yet."""
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
        if wants_json(request):
            text = f"{SHOWN_TOO_OFTEN} " + gettext("Try again in %(wait)s.") % {"wait": wait_text(wait)}
            response = JsonResponse({"error": "rate_limited", "message": text, "retry_after": wait}, status=429)
            response["Retry-After"] = str(wait)
            return response
        return rate_limited(request, wait, SHOWN_TOO_OFTEN)
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
        secret = get_object_or_404(ApiSecret.objects.current(), key=key)
    try:
        plaintext = services.secret_show(secret=secret, purpose=purpose, audit=Audit.of(request))
    except services.SecretUnreadable:
        return _unreadable(request, membership, key)
    if wants_json(request):
        return JsonResponse({"secret": plaintext, "client_id": key.client_id})
    return _render_list(request, membership, shown=ShownSecret(secret.public_id, plaintext, key.public_id))


UNREADABLE = gettext_lazy(
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
        return render(
            request, "apikeys/key_renew.html", {**context, "grace": DEFAULT_GRACE, "error": error}, status=status
        )
    if form.needs_confirmation:
        # "Now" chosen without its danger button (Enter in the form, or no CSS): ask again.
        return render(request, "apikeys/key_renew.html", {**context, "grace": "now", "confirm_now": True})
    try:
        _, secret, _plaintext = services.key_renew(key=key, grace=form.cleaned_data["grace"], audit=Audit.of(request))
    except services.KeyBusy:
        context.update(grace=form.data.get("grace") or DEFAULT_GRACE, error=str(KEY_BUSY))
        return render(request, "apikeys/key_renew.html", context, status=409)
    notice_next_to_key(request, key, gettext("Key renewed."), secret=secret)
    # Post/redirect/get, so that reloading the page cannot renew again.
    return redirect(reverse("apikeys:list", kwargs={"code": membership.tenant.code}) + NOTICE_ANCHOR)


@require_http_methods(["GET", "POST"])
def secret_retire(request: HttpRequest, code: str, key_id: uuid.UUID, secret_id: uuid.UUID) -> HttpResponse:
    """GET: a confirmation (for browsers without JavaScript). POST: the old secret stops
    working now; back to the list with "Old secret retired." beside the key."""
    membership = require_role(membership_for(request, code), Role.ADMIN)
    key = get_object_or_404(ApiKey, tenant=membership.tenant, public_id=key_id)
    secret = get_object_or_404(ApiSecret.objects.in_grace(), key=key, public_id=secret_id)
    if request.method == "GET":
        return render(
            request,
            "apikeys/secret_retire.html",
            {"membership": membership, "tenant": membership.tenant, "key": key, "secret": secret, "active_tab": "keys"},
        )
    if reauth := post_needs_reauthentication(request):
        return reauth
    services.secret_retire(secret=secret, audit=Audit.of(request))
    # Beside the key, like every other change made from the list (not a banner at the top).
    notice_next_to_key(request, key, gettext("Old secret retired."))
    return redirect(reverse("apikeys:list", kwargs={"code": membership.tenant.code}) + NOTICE_ANCHOR)
