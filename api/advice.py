"""`GET /api/v1/keys/{id}/access-advice`: the access advisor's advice on one key of the calling
token's tenant (usage/advisor.py, docs/access-advisor.md), as the key's advisor page shows it.
Reading it needs portal.key_read, as reading the key does; another tenant's key is 404."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from usage.advisor import FINDING_ORDER, RECENT_DAYS, WINDOW_DAYS, KeyAdvice, advise, keys_for_advice

from .base import PortalAPIView
from .grants import KEY_READ


class OperationUseOut(serializers.Serializer):
    operation_id = serializers.CharField(
        source="route.operation_id",
        allow_null=True,
        help_text="The route table's id; null for the few it has none for.",
    )
    method = serializers.CharField(source="route.method")
    path = serializers.CharField(source="route.path")
    last_used = serializers.DateField(allow_null=True, help_text="The UTC day of its last allowed call, in the window.")
    calls_30d = serializers.IntegerField(source="calls_30")
    calls_90d = serializers.IntegerField(source="calls_90")
    counts_for = serializers.CharField(
        source="used_as", allow_null=True, help_text="The key's scope its calls count for; null: none needed."
    )


class ScopeUseOut(serializers.Serializer):
    name = serializers.CharField()
    used = serializers.BooleanField(help_text="An allowed gateway call counted for it in the last 90 days.")
    last_used = serializers.DateField(allow_null=True)
    calls_30d = serializers.IntegerField(source="calls_30")
    calls_90d = serializers.IntegerField(source="calls_90")
    operations = serializers.ListField(
        child=serializers.CharField(), help_text='The operations it opens, as "METHOD /path".'
    )
    covered_by = serializers.ListField(
        child=serializers.CharField(), help_text="For an unused scope: the scopes its called operations count for."
    )


class ServiceUseOut(serializers.Serializer):
    name = serializers.CharField()
    last_used = serializers.DateField(allow_null=True)
    calls_30d = serializers.IntegerField(source="calls_30")
    calls_90d = serializers.IntegerField(source="calls_90")
    scopes = ScopeUseOut(many=True)
    operations = OperationUseOut(many=True, help_text="What the service's scopes open, each once.")


class AccessAdvice(serializers.Serializer):
    key_id = serializers.UUIDField(source="key.public_id")
    window_days = serializers.IntegerField()
    recent_days = serializers.IntegerField()
    finding = serializers.ChoiceField(choices=FINDING_ORDER, allow_null=True, help_text="null: nothing to advise.")
    summary = serializers.CharField(help_text="The finding in words, as the portal shows it.")
    last_used = serializers.DateTimeField(allow_null=True, help_text="The key's last successful use of any kind.")
    calls_30d = serializers.IntegerField(source="calls_30")
    calls_90d = serializers.IntegerField(source="calls_90")
    used_scopes = serializers.ListField(child=serializers.CharField())
    unused_scopes = serializers.ListField(child=serializers.CharField())
    can_narrow = serializers.BooleanField(help_text="A custom key whose unused scopes can be removed (in the portal).")
    services = ServiceUseOut(many=True)
    unscoped_operations = OperationUseOut(
        source="unscoped", many=True, help_text="Operations called that no scope of the key was needed for."
    )


def _day(moment):
    return moment.date() if moment is not None else None


def _data(advice: KeyAdvice) -> dict:
    """The advice in the serializer's shape: days as dates, scopes' operations as ids."""

    def operation(op) -> dict:
        return {**vars(op), "route": op.route, "last_used": _day(op.last_used)}

    services = [
        {
            "name": service.name,
            "last_used": _day(service.last_used),
            "calls_30": service.calls_30,
            "calls_90": service.calls_90,
            "scopes": [
                {
                    "name": scope.name,
                    "used": scope.used,
                    "last_used": _day(scope.last_used),
                    "calls_30": scope.calls_30,
                    "calls_90": scope.calls_90,
                    "operations": [op.label for op in scope.operations],
                    "covered_by": list(scope.covered_by),
                }
                for scope in service.scopes
            ],
            "operations": [operation(op) for op in service.operations],
        }
        for service in advice.services
    ]
    return {
        "key": advice.key,
        "window_days": WINDOW_DAYS,
        "recent_days": RECENT_DAYS,
        "finding": advice.finding,
        "summary": advice.summary,
        "last_used": advice.last_used,
        "calls_30": advice.calls_30,
        "calls_90": advice.calls_90,
        "used_scopes": advice.used_scopes,
        "unused_scopes": advice.unused_scopes,
        "can_narrow": advice.can_narrow,
        "services": services,
        "unscoped": [operation(op) for op in advice.unscoped],
    }


class KeyAccessAdvice(PortalAPIView):
    """The access advisor's advice on one key: per service, its scopes, the operations they
    open, when each was last used and its calls in 30 and 90 days; and its finding."""

    required_scopes = {"GET": KEY_READ}

    @extend_schema(
        operation_id="keys_access_advice",
        summary="Get the access advisor's advice on an API key",
        responses={200: AccessAdvice},
    )
    def get(self, request: Request, key_id: str) -> Response:
        key = get_object_or_404(keys_for_advice(self.tenant), public_id=key_id)
        advice = advise([key], self.tenant)[0]
        return Response(AccessAdvice(_data(advice)).data)
