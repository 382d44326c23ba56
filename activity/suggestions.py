"""The keys the activity page's key search suggests: those the log mentions (entries keep each
key's Client ID and name, so deleted keys are found too), matching the text typed, most
recently active first, at most a screenful. Three small queries whatever the log's size."""

from dataclasses import dataclass

from django.db import connection
from django.db.models import Max, Q

from .models import Action, ActivityEntry

LIMIT = 20


@dataclass(frozen=True)
class KeySuggestion:
    client_id: str
    name: str  # the latest name the log knows
    deleted: bool

    def as_json(self) -> dict:
        return {"client_id": self.client_id, "name": self.name, "deleted": self.deleted}


def key_suggestions(tenant_id: int, text: str, *, limit: int = LIMIT) -> list[KeySuggestion]:
    entries = ActivityEntry.objects.filter(tenant_id=tenant_id).exclude(key_client_id="")
    text = text.strip()
    matching = entries
    if text:
        matching = entries.filter(Q(key_client_id__contains=text) | Q(key_name__icontains=text))
    recent = list(
        matching.values("key_client_id")
        .annotate(last=Max("created_at"))
        .order_by("-last", "key_client_id")
        .values_list("key_client_id", flat=True)[:limit]
    )
    if not recent:
        return []
    named = (
        entries.filter(key_client_id__in=recent)
        .order_by("key_client_id", "-created_at", "-id")
        .values_list("key_client_id", "key_name")
    )
    if connection.features.can_distinct_on_fields:
        named = named.distinct("key_client_id")  # PostgreSQL: one row per key
    names: dict[str, str] = {}
    for client_id, name in named:
        names.setdefault(client_id, name)
    deleted = set(
        entries.filter(key_client_id__in=recent, action=Action.KEY_DELETED).values_list("key_client_id", flat=True)
    )
    return [KeySuggestion(client_id, names.get(client_id, ""), client_id in deleted) for client_id in recent]
