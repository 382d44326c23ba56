"""How often each key's own rate limit refused a request (apikeys.limits), read from the
roll-ups: the last 24 hours from the minute table (kept 48 hours), the last 30 days from the
hour table (kept 30 days). Two queries for any number of keys. Registered with the keys app
from UsageConfig.ready(), which shows it without importing this app."""

from datetime import datetime, timedelta

from django.db.models import Sum

from apikeys.limits import Reached
from kernel.usage import KEY_RATE_LIMITED

from .models import HourUsage, MinuteUsage, Rollup

DAY = timedelta(hours=24)
MONTH = timedelta(days=30)


def _refused(table: type[Rollup], key_ids: list[int], since: datetime) -> dict[int, int]:
    rows = (
        table.objects.filter(key_id__in=key_ids, bucket__gte=since, outcome=KEY_RATE_LIMITED)
        .order_by()
        .values("key_id")
        .annotate(calls=Sum("calls"))
        .values_list("key_id", "calls")
    )
    return dict(rows)


def rate_limit_reached(key_ids: list[int], now: datetime) -> dict[int, Reached]:
    """{key id: Reached(last 24 hours, last 30 days)} for the keys among `key_ids` refused by
    their rate limit in the last 30 days (counted to the minute and to the hour)."""
    day = _refused(MinuteUsage, key_ids, now - DAY)
    month = _refused(HourUsage, key_ids, (now - MONTH).replace(minute=0, second=0, microsecond=0))
    return {key_id: Reached(day.get(key_id, 0), calls) for key_id, calls in month.items()}
