"""How the portal shows a date and time to people: one format, with the time zone, in Django's
current time zone (settings.TIME_ZONE). Machine-readable copies (CSV, JSON) stay ISO 8601."""

from datetime import datetime

from django.utils import dateformat, timezone
from django.utils.dateparse import parse_datetime

# e.g. "27 Nov 2026, 16:51 UTC"
HUMAN_FORMAT = "j M Y, H:i T"


def human_datetime(value: datetime) -> str:
    return dateformat.format(timezone.localtime(value), HUMAN_FORMAT)


def iso_datetime(value: datetime) -> str:
    return timezone.localtime(value).isoformat()


def human_from_iso(value: str) -> str:
    """An ISO 8601 timestamp (as activity details keep them) in the human format; anything
    that is not one is returned unchanged."""
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None or timezone.is_naive(parsed):
        return value
    return human_datetime(parsed)
