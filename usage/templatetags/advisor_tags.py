"""What the access advisor's pages need beyond portal_tags: a day of the roll-ups, as a day."""

from datetime import UTC, datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html

register = template.Library()


@register.filter
def day(value: datetime | None, empty: str = "never") -> str:
    """A daily roll-up's bucket (midnight UTC) as the UTC day it counts: "today", "yesterday"
    or "3 Dec 2026". Not converted to the reader's time zone, which would shift it a day."""
    if value is None:
        return empty
    counted = value.astimezone(UTC).date()
    days = (timezone.now().astimezone(UTC).date() - counted).days
    text = "today" if days == 0 else "yesterday" if days == 1 else f"{counted.day} {counted:%b %Y}"
    return format_html('<time datetime="{}" title="{} (UTC)">{}</time>', counted.isoformat(), counted.isoformat(), text)
