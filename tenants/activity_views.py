"""The tenant's activity log page (the log itself is the activity app, below the tenants)."""

import csv
import json

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.http import require_GET

from activity.display import details_lines
from activity.forms import ActivityFilterForm
from activity.models import ActivityEntry
from activity.suggestions import key_suggestions

from .access import membership_for, require_role
from .models import Role

PAGE_SIZE = 50
CSV_COLUMNS = ["time", "actor", "action", "key name", "client id", "details", "ip"]


def _filtered(request: HttpRequest, code: str):
    membership = require_role(membership_for(request, code), Role.ADMIN)
    form = ActivityFilterForm(request.GET or None, tenant_id=membership.tenant_id)
    entries = ActivityEntry.objects.filter(tenant=membership.tenant).order_by("-created_at", "-id")
    form.fields["key"].widget.attrs["data-suggest-url"] = reverse("activity:keys", kwargs={"code": code})
    return membership, form, form.filter(entries)


@require_GET
def activity_list(request: HttpRequest, code: str) -> HttpResponse:
    """The tenant's activity log, newest first, 50 a page, filterable by key, action, actor
    and date range."""
    membership, form, entries = _filtered(request, code)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(entry, details_lines(entry)) for entry in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "activity/activity_list.html",
        {
            "membership": membership,
            "tenant": membership.tenant,
            "active_tab": "activity",
            "form": form,
            "page": page,
            "rows": rows,
            "filter_query": query.urlencode(),
        },
    )


def _cell(value: str) -> str:
    # Spreadsheets run cells that start like a formula; a leading quote keeps them text.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _write_csv(response: HttpResponse, entries) -> None:
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    # iterator(): rows are fetched in chunks rather than all cached on the queryset.
    for entry in entries.iterator(chunk_size=500):
        writer.writerow(
            [
                entry.created_at.isoformat(),
                _cell(entry.actor_email),
                # "Key created", as the English page says it: the file reads the same in every
                # interface language, like its column names and the details (JSON).
                entry.get_action_display(),
                _cell(entry.key_name),
                entry.key_client_id,
                json.dumps(entry.details, ensure_ascii=False, sort_keys=True),
                entry.ip_address,
            ]
        )


@require_GET
def activity_keys(request: HttpRequest, code: str) -> JsonResponse:
    """The key search's suggestions as JSON (`?q=` part of a name or Client ID): keys of this
    tenant's log only, for its admins only (as the page), at most 20."""
    membership = require_role(membership_for(request, code), Role.ADMIN)
    text = request.GET.get("q", "")[:64]
    found = key_suggestions(membership.tenant_id, text)
    response = JsonResponse({"keys": [key.as_json() for key in found]})
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def activity_csv(request: HttpRequest, code: str) -> HttpResponse:
    """The same filtered entries as a CSV download."""
    membership, _, entries = _filtered(request, code)
    filename = f"activity-{membership.tenant.code}-{timezone.now():%Y%m%d-%H%M}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    with translation.override("en"):  # the export is English whatever the page's language
        _write_csv(response, entries)
    return response
