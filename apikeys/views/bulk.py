"""Bulk actions on keys and the keys' inventory export (issue 20).

Bulk actions (admins only): the keys table's checkboxes, "all on this page" or "all matching the
search" send a GET to `bulk_confirm` (so that the confirmation page survives a
re-authentication: it is asked for before the page is shown, once), which lists what will
change; its POST disables, enables or deletes each key through the same services as one key's
pages, each change its own activity entry. Ids of another tenant's keys (or of none) are
ignored; the built-in keys are never deleted (they are skipped, and the page says so).

The inventory export (any member: it holds no secret) streams every key matching the list's
search and filters as CSV, in a bounded number of queries whatever the number of keys."""

import csv
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts.reauth import reauthentication_needed
from activity.audit import Audit
from tenants.access import membership_for, require_role
from tenants.models import Membership, Role

from .. import services
from ..auth import custom_scope_names, held_scope_names
from ..filters import KeyListFilter
from ..models import ApiKey
from .listing import tenant_members

# What the bulk form offers; each maps to one key's service.
BULK_ACTIONS = ("disable", "enable", "delete")


def _action_texts(action: str, count: int) -> dict[str, str]:
    """What the confirmation page says of `action` on `count` keys: whole sentences per
    action, so that each language words them its own way."""
    if action == "disable":
        return {
            "title": ngettext("Disable %(count)d key", "Disable %(count)d keys", count) % {"count": count},
            "heading": gettext("Disable several keys"),
            "question": ngettext("Disable %(count)d key?", "Disable %(count)d keys?", count) % {"count": count},
            "list_label": gettext("Keys to disable"),
        }
    if action == "enable":
        return {
            "title": ngettext("Enable %(count)d key", "Enable %(count)d keys", count) % {"count": count},
            "heading": gettext("Enable several keys"),
            "question": ngettext("Enable %(count)d key?", "Enable %(count)d keys?", count) % {"count": count},
            "list_label": gettext("Keys to enable"),
        }
    return {
        "title": ngettext("Delete %(count)d key", "Delete %(count)d keys", count) % {"count": count},
        "heading": gettext("Delete several keys"),
        "question": ngettext("Delete %(count)d key?", "Delete %(count)d keys?", count) % {"count": count},
        "list_label": gettext("Keys to delete"),
    }


def _done_text(action: str, done: int) -> str:
    if action == "disable":
        return ngettext("%(count)d key disabled.", "%(count)d keys disabled.", done) % {"count": done}
    if action == "enable":
        return ngettext("%(count)d key enabled.", "%(count)d keys enabled.", done) % {"count": done}
    return ngettext("%(count)d key deleted.", "%(count)d keys deleted.", done) % {"count": done}


def _builtin_warning(builtin: list[ApiKey]) -> str:
    """ "This includes the tenant's Emporix API key:", as HTML (the key names escaped, the
    translated words as they are, apostrophes and all)."""
    keys = _names_joined([gettext("the tenant's %(name)s key") % {"name": escape(key.name)} for key in builtin])
    return mark_safe(gettext("This includes %(keys)s:") % {"keys": keys})  # noqa: S308 (names escaped above)


def _names_joined(names: list[str]) -> str:
    """ "A and B and C", in the page's language."""
    joiner = gettext("and")
    return f" {joiner} ".join(names)


# Which keys: the ticked ones, every key of the page shown, or every key the search matches.
SCOPES = ("selected", "page", "matching")
# At most this many keys in one bulk action, and ids read from one request.
BULK_MAX = 10000
MAX_IDS = 200
# The confirmation page names this many keys, then says how many more.
NAMES_SHOWN = 50


@dataclass
class Selection:
    action: str
    scope: str
    keys: list[ApiKey]  # the tenant's keys the action applies to
    skipped: list[ApiKey]  # built-in keys a delete leaves alone
    ignored: int  # ids that are not keys of this tenant
    hidden: list[tuple[str, str]]  # the selection as the confirmation form repeats it
    too_many: bool = False


def _ids(values: list[str]) -> tuple[list[uuid.UUID], int]:
    """The well-formed ids among `values` (each once), and how many were not."""
    ids: list[uuid.UUID] = []
    bad = 0
    for value in values[:MAX_IDS]:
        try:
            parsed = uuid.UUID(value)
        except (ValueError, TypeError, AttributeError):
            bad += 1
            continue
        if parsed not in ids:
            ids.append(parsed)
    return ids, bad + max(0, len(values) - MAX_IDS)


def _filtered(request_data: QueryDict, membership: Membership) -> QuerySet[ApiKey]:
    """Every key of the tenant that the list's search and filters (in `request_data`) match,
    in the list's order."""
    tenant = membership.tenant
    found = KeyListFilter(
        request_data, ApiKey.objects.filter(tenant=tenant), now=timezone.now(), owners=tenant_members(tenant)
    )
    return found.qs


def _filter_params(data: QueryDict) -> list[tuple[str, str]]:
    return [(name, data[name]) for name in KeyListFilter.NARROWING if data.get(name)]


def _selection(data: QueryDict, membership: Membership) -> Selection | None:
    """What the bulk form (or the confirmation form repeating it) asks for; None if it names no
    action."""
    action = data.get("action", "")
    if action not in BULK_ACTIONS:
        return None
    scope = data.get("scope") if data.get("scope") in SCOPES else "selected"
    tenant_keys = ApiKey.objects.filter(tenant=membership.tenant)
    ignored = 0
    too_many = False
    if scope == "matching":
        hidden = [("scope", scope), *_filter_params(data)]
        keys = list(_filtered(data, membership)[: BULK_MAX + 1])
        too_many = len(keys) > BULK_MAX
        keys = keys[:BULK_MAX]
    else:
        field = "page_key" if scope == "page" else "key"
        ids, ignored = _ids(data.getlist(field))
        found = {key.public_id: key for key in tenant_keys.filter(public_id__in=ids)}
        keys = [found[key_id] for key_id in ids if key_id in found]
        ignored += len(ids) - len(keys)  # another tenant's keys, or none
        hidden = [("scope", "selected"), *[("key", str(key.public_id)) for key in keys]]
    skipped = [key for key in keys if not key.is_custom] if action == "delete" else []
    keys = [key for key in keys if key not in skipped]
    return Selection(action, scope, keys, skipped, ignored, [("action", action), *hidden], too_many)


def _list_url(code: str, data: QueryDict | None = None) -> str:
    url = reverse("apikeys:list", kwargs={"code": code})
    params = _filter_params(data) if data is not None else []
    return url + ("?" + urlencode(params) if params else "") + "#custom-keys"


@never_cache
@require_http_methods(["GET", "POST"])
def bulk_confirm(request: HttpRequest, code: str) -> HttpResponse:
    """GET: the confirmation of a bulk action (after a re-authentication if none is recent).
    POST: do it, one key after the other, each change in the activity log; back to the list."""
    membership = require_role(membership_for(request, code), Role.ADMIN)
    # Back to this confirmation page, with the same selection, after a re-authentication.
    if reauth := reauthentication_needed(request, form_page=_confirmation_url):
        return reauth
    data = request.POST if request.method == "POST" else request.GET
    selection = _selection(data, membership)
    if selection is None:
        messages.error(request, gettext("Choose what to do with the selected keys: disable, enable or delete."))
        return redirect(_list_url(code, data))
    if not selection.keys and not selection.skipped:
        messages.error(request, gettext("No key selected: tick the keys to change, or choose all on the page."))
        return redirect(_list_url(code, data))
    if request.method == "GET" or selection.too_many:
        builtin = [key for key in selection.keys if not key.is_custom]
        texts = _action_texts(selection.action, len(selection.keys))
        return render(
            request,
            "apikeys/key_bulk_confirm.html",
            {
                "membership": membership,
                "tenant": membership.tenant,
                "active_tab": "keys",
                "selection": selection,
                **texts,
                "button": texts["title"],
                "shown": selection.keys[:NAMES_SHOWN],
                "more": max(0, len(selection.keys) - NAMES_SHOWN),
                "builtin": builtin,
                "builtin_warning": _builtin_warning(builtin),
                "skipped_names": _names_joined([key.name for key in selection.skipped]),
                "back": _list_url(code, data),
                "bulk_max": BULK_MAX,
            },
            status=400 if selection.too_many else 200,
        )
    done, busy = _apply(request, selection)
    text = _done_text(selection.action, done)
    if selection.skipped:
        names = ", ".join(key.name for key in selection.skipped)
        text += " " + gettext("Skipped %(names)s: the built-in keys cannot be deleted.") % {"names": names}
    if busy:
        text += " " + ngettext(
            "%(count)d key was being changed by someone else: try again.",
            "%(count)d keys were being changed by someone else: try again.",
            busy,
        ) % {"count": busy}
    messages.success(request, text)
    return redirect(_list_url(code, data))


def _confirmation_url(request: HttpRequest) -> str:
    """The GET of the confirmation page a (stale) confirming POST came from."""
    selection = [(name, value) for name, value in request.POST.lists() if name != "csrfmiddlewaretoken"]
    return request.path + "?" + urlencode(selection, doseq=True)


def _apply(request: HttpRequest, selection: Selection) -> tuple[int, int]:
    """Each key through its own service (its own transaction and activity entry). How many
    changed, and how many were busy."""
    audit = Audit.of(request)
    done = busy = 0
    for key in selection.keys:
        try:
            if selection.action == "disable":
                changed = key.disabled_at is None
                services.key_disable(key=key, audit=audit, reason="bulk action")
            elif selection.action == "enable":
                changed = key.disabled_at is not None
                services.key_enable(key=key, audit=audit)
            else:
                changed = True
                services.key_delete(key=key, audit=audit)
        except services.KeyBusy:
            busy += 1
            continue
        except ApiKey.DoesNotExist:  # deleted meanwhile
            continue
        done += changed
    return done, busy


# --- Inventory export -----------------------------------------------------------------------------

EXPORT_COLUMNS = [
    "kind",
    "client_id",
    "name",
    "description",
    "environment",
    "labels",
    "owner",
    "status",
    "scopes",
    "created",
    "last_used",
    "expires",
]
EXPORT_CHUNK = 500


def csv_cell(value: str) -> str:
    """Spreadsheets run cells that start like a formula; a leading apostrophe keeps them text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


class _Echo:
    """A file-like object whose write() returns what it is given, for csv.writer to stream."""

    def write(self, value: str) -> str:
        return value


def _status(key: ApiKey, now) -> str:
    if key.disabled_at is not None:
        return "disabled"
    if key.is_expired(now):
        return "expired"
    return "enabled"


def _export_rows(keys: QuerySet[ApiKey]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_COLUMNS)
    now = timezone.now()
    # One query (in chunks, with a server-side cursor where the database has one): custom keys'
    # scope names come as a subquery column, the owner by a join.
    rows = (
        keys.select_related("owner")
        .annotate(custom_scopes=custom_scope_names())
        .defer("allowed_networks", "allowed_origins")
        .iterator(chunk_size=EXPORT_CHUNK)
    )
    for key in rows:
        yield writer.writerow(
            [
                key.get_kind_display(),
                key.client_id,
                csv_cell(key.name),
                csv_cell(key.description),
                key.environment,
                " ".join(key.label_list),
                csv_cell(key.owner.email) if key.owner_id else "",
                _status(key, now),
                " ".join(sorted(held_scope_names(key))),
                key.created_at.isoformat(),
                key.last_used_at.isoformat() if key.last_used_at else "",
                key.expires_at.isoformat() if key.expires_at else "",
            ]
        )


@require_GET
def key_export(request: HttpRequest, code: str) -> StreamingHttpResponse:
    """Every key matching the list's search and filters as CSV (never a secret), streamed."""
    membership = membership_for(request, code)
    keys = _filtered(request.GET, membership)
    filename = f"api-keys-{membership.tenant.code}-{timezone.now():%Y%m%d-%H%M}.csv"
    response = StreamingHttpResponse(_export_rows(keys), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
