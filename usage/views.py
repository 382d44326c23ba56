"""The usage pages (issue 21): a key's usage, the tenant's overview, their CSV exports, and the
keys page's column of calls in the last 24 hours. Any member of the tenant sees them (viewers
too: usage holds no secret); they read the roll-ups only (usage/queries.py), in a fixed number
of queries whatever the number of keys or calls.

An unknown `range` is a form error: the page for the default range with the error, status 400
(the CSV exports answer the same page rather than a file)."""

import csv
import uuid
from collections.abc import Iterator
from datetime import datetime

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET

from apikeys.models import ApiKey
from apikeys.views.bulk import csv_cell
from tenants.access import membership_for
from tenants.models import Membership, Tenant

from . import queries
from .charts import bar_chart
from .forms import RangeForm
from .queries import RANGES, Range, Spark

_ANY_KEY = uuid.UUID(int=0)


def key_list_sparks(keys: list[ApiKey], tenant: Tenant, now: datetime) -> dict[int, Spark]:
    """The keys page's column (apikeys.columns): each key's calls per hour over the last 24
    hours and the link to its usage page, for the whole page of keys in one query."""
    url = reverse("usage:key", kwargs={"code": tenant.code, "key_id": _ANY_KEY})
    hourly = queries.hourly_calls([key.pk for key in keys], now)
    return {key.pk: Spark(hourly[key.pk], url.replace(str(_ANY_KEY), str(key.public_id))) for key in keys}


def _range(request: HttpRequest) -> tuple[Range, RangeForm]:
    """The chosen range, and the form that says what was wrong with an unknown one."""
    form = RangeForm(request.GET)
    name = form.chosen() if form.is_valid() else queries.DEFAULT_RANGE
    return RANGES[name], form


def _key(membership: Membership, key_id: uuid.UUID) -> ApiKey:
    """The tenant's key (404 for another tenant's): only what the pages show of it."""
    return get_object_or_404(
        ApiKey.objects.only("id", "public_id", "name", "kind", "client_id", "tenant_id"),
        tenant=membership.tenant,
        public_id=key_id,
    )


@require_GET
def key_usage(request: HttpRequest, code: str, key_id: uuid.UUID) -> HttpResponse:
    """A key's calls over 24 hours, 7 days or 30 days by outcome, its top operations, its
    errors by reason and where it was last used from."""
    membership = membership_for(request, code)
    key = _key(membership, key_id)
    return _key_page(request, membership, key, *_range(request))


def _key_page(request: HttpRequest, membership: Membership, key: ApiKey, chosen: Range, form: RangeForm):
    now = timezone.now()
    series = queries.series(chosen, now, queries.of_key(key.pk))
    context = {
        "membership": membership,
        "tenant": membership.tenant,
        "active_tab": "keys",
        "key": key,
        "range": chosen,
        "form": form,
        "page_url": reverse("usage:key", kwargs={"code": membership.tenant.code, "key_id": key.public_id}),
        "chart": bar_chart(
            series,
            "key-calls",
            gettext("Calls of %(name)s per %(step)s, by outcome") % {"name": key.name, "step": _step_name(chosen)},
        ),
        "operations": queries.top_operations(chosen, now, queries.of_key(key.pk)),
        "last_use": queries.last_use(key.pk),
        "export_url": reverse("usage:key_export", kwargs={"code": membership.tenant.code, "key_id": key.public_id})
        + f"?range={chosen.name}",
    }
    return render(request, "usage/key_usage.html", context, status=400 if form.errors else 200)


_STEP_NAMES = {1: gettext_lazy("hour"), 6: gettext_lazy("6 hours"), 24: gettext_lazy("day")}


def _step_name(chosen: Range) -> str:
    hours = int(chosen.step.total_seconds() // 3600)
    return str(_STEP_NAMES[hours])


@require_GET
def tenant_usage(request: HttpRequest, code: str) -> HttpResponse:
    """The tenant's overview: calls over time by outcome, the success rate, the busiest keys
    and the keys whose failures are rising (queries.rising_failures says how)."""
    membership = membership_for(request, code)
    return _tenant_page(request, membership, *_range(request))


def _tenant_page(request: HttpRequest, membership: Membership, chosen: Range, form: RangeForm):
    tenant = membership.tenant
    now = timezone.now()
    series = queries.series(chosen, now, queries.of_tenant(tenant.pk))
    context = {
        "membership": membership,
        "tenant": tenant,
        "active_tab": "usage",
        "range": chosen,
        "form": form,
        "page_url": reverse("usage:overview", kwargs={"code": tenant.code}),
        "chart": bar_chart(
            series,
            "tenant-calls",
            gettext("Calls of %(name)s per %(step)s, by outcome") % {"name": tenant.name, "step": _step_name(chosen)},
        ),
        "busiest": queries.busiest_keys(chosen, now, tenant.pk),
        "rising": queries.rising_failures(now, tenant.pk),
        "rising_rule": {
            "minimum": queries.RISING_MINIMUM,
            "factor": queries.RISING_FACTOR,
            "days": queries.RISING_BEFORE_DAYS,
        },
        "export_url": reverse("usage:export", kwargs={"code": tenant.code}) + f"?range={chosen.name}",
    }
    return render(request, "usage/tenant_usage.html", context, status=400 if form.errors else 200)


# --- CSV ------------------------------------------------------------------------------------------

CSV_COLUMNS = ["bucket_start", "key_name", "client_id", "operation", "method", "path", "outcome", "calls"]


class _Echo:
    """A file-like object whose write() returns what it is given, for csv.writer to stream."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(rows) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for bucket, name, client_id, operation, outcome, calls in rows:
        method, path, _ = queries.route_of(operation)
        yield writer.writerow(
            [
                bucket.isoformat(),
                csv_cell(name or ""),
                client_id or "",
                csv_cell(operation),
                method,
                csv_cell(path),
                outcome,
                calls,
            ]
        )


def _csv(rows, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(_csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def key_export(request: HttpRequest, code: str, key_id: uuid.UUID) -> HttpResponse:
    """The key's usage over the range as CSV: one row per bucket × operation × outcome."""
    membership = membership_for(request, code)
    key = _key(membership, key_id)
    chosen, form = _range(request)
    if form.errors:
        return _key_page(request, membership, key, chosen, form)
    rows = queries.export_rows(chosen, timezone.now(), queries.of_key(key.pk))
    return _csv(rows, f"usage-{membership.tenant.code}-{key.client_id}-{chosen.name}.csv")


@require_GET
def tenant_export(request: HttpRequest, code: str) -> HttpResponse:
    """The tenant's usage over the range as CSV: one row per bucket × key × operation × outcome
    (calls no key could be named for have an empty key name and Client ID)."""
    membership = membership_for(request, code)
    chosen, form = _range(request)
    if form.errors:
        return _tenant_page(request, membership, chosen, form)
    rows = queries.export_rows(chosen, timezone.now(), queries.of_tenant(membership.tenant.pk))
    return _csv(rows, f"usage-{membership.tenant.code}-{chosen.name}.csv")
