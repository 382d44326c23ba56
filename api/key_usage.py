"""`GET /api/v1/keys/{id}/usage?range=24h|7d|30d` (issue 21): what the key's usage page shows,
as JSON: calls per bucket by outcome, its top operations with their routes, errors by reason
and where it was last used from. Read from the usage roll-ups only (usage.queries), in a fixed
number of queries."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apikeys.models import ApiKey
from usage import queries
from usage.forms import RangeForm

from .base import PortalAPIView
from .grants import KEY_READ
from .problems import Problem

RANGE = OpenApiParameter(
    "range",
    {"type": "string", "enum": list(queries.RANGES), "default": queries.DEFAULT_RANGE},
    description="24h: hourly buckets; 7d: 6-hour buckets; 30d: daily buckets (UTC)",
)


class UsageBucket(serializers.Serializer):
    start = serializers.DateTimeField()
    calls = serializers.IntegerField()
    outcomes = serializers.DictField(child=serializers.IntegerField(), help_text="outcome -> calls")


class UsageOperation(serializers.Serializer):
    operation = serializers.CharField(help_text="The route table's operation id, or the token service's")
    method = serializers.CharField(help_text="Empty for calls the route table does not know")
    path = serializers.CharField()
    calls = serializers.IntegerField()
    failures = serializers.IntegerField()


class UsageError(serializers.Serializer):
    outcome = serializers.CharField()
    label = serializers.CharField()
    calls = serializers.IntegerField()


class LastUsed(serializers.Serializer):
    network = serializers.CharField(help_text="IPv4 /24 or IPv6 /48: never the full address")
    at = serializers.DateTimeField()


class KeyUsageOut(serializers.Serializer):
    key_id = serializers.UUIDField()
    range = serializers.ChoiceField(choices=list(queries.RANGES))
    bucket_seconds = serializers.IntegerField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField(help_text="Exclusive; the last bucket is still counting")
    calls = serializers.IntegerField()
    successes = serializers.IntegerField()
    failures = serializers.IntegerField()
    buckets = UsageBucket(many=True)
    operations = UsageOperation(many=True, help_text="The most called, at most 10")
    errors = UsageError(many=True, help_text="Failed calls by reason, the most frequent first")
    last_used = LastUsed(allow_null=True, help_text="The last successful use")


def _range(request: Request) -> queries.Range:
    """The `range` parameter (absent: 24h); an empty or unknown one is an invalid-request."""
    value = request.query_params.get("range")
    if value == "":
        raise Problem("invalid-request", errors={"range": ["Give a value or leave the parameter out."]})
    form = RangeForm({"range": value} if value is not None else {})
    if not form.is_valid():
        raise Problem("invalid-request", errors={"range": form.errors["range"]})
    return queries.RANGES[form.chosen()]


class KeyUsage(PortalAPIView):
    """A key's usage over the last 24 hours, 7 days or 30 days."""

    required_scopes = {"GET": KEY_READ}

    @extend_schema(operation_id="keys_usage", parameters=[RANGE], responses={200: KeyUsageOut})
    def get(self, request: Request, key_id: str) -> Response:
        chosen = _range(request)
        key = get_object_or_404(ApiKey.objects.only("id", "public_id"), tenant=self.tenant, public_id=key_id)
        now = timezone.now()
        series = queries.series(chosen, now, queries.of_key(key.pk))
        start, end = chosen.window(now)
        last_use = queries.last_use(key.pk)
        data = {
            "key_id": key.public_id,
            "range": chosen.name,
            "bucket_seconds": int(chosen.step.total_seconds()),
            "start": start,
            "end": end,
            "calls": series.total,
            "successes": series.successes,
            "failures": series.failures,
            "buckets": [{"start": bar.start, "calls": bar.total, "outcomes": bar.calls} for bar in series.bars],
            "operations": [
                {
                    "operation": use.operation,
                    "method": use.method,
                    "path": use.path,
                    "calls": use.calls,
                    "failures": use.failures,
                }
                for use in queries.top_operations(chosen, now, queries.of_key(key.pk))
            ],
            "errors": [{"outcome": outcome, "label": label, "calls": calls} for outcome, label, calls in series.errors],
            "last_used": {"network": last_use.network, "at": last_use.at} if last_use else None,
        }
        return Response(KeyUsageOut(data).data)


class KeyUsageUnslashed(KeyUsage):
    """The same, at the path without its final slash; left out of the OpenAPI document."""

    schema = None
