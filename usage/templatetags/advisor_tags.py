"""What the access advisor's pages need beyond portal_tags: a day of the roll-ups, as a day."""

from datetime import UTC, datetime

from django import template
from django.utils import dateformat, timezone
from django.utils.html import format_html
from django.utils.translation import gettext

register = template.Library()


@register.filter
def day(value: datetime | None, empty: str | None = None) -> str:
    """A daily roll-up's bucket (midnight UTC) as the UTC day it counts: "today", "yesterday"
    or "3 Dec 2026". Not converted to the reader's time zone, which would shift it a day."""
    if value is None:
        return gettext("never") if empty is None else empty
    counted = value.astimezone(UTC).date()
    days = (timezone.now().astimezone(UTC).date() - counted).days
    if days == 0:
        text = gettext("today")
    elif days == 1:
        text = gettext("yesterday")
    else:  # the month's abbreviation in the reader's language ("3 Dec 2026", "3 Dez 2026")
        text = f"{counted.day} {dateformat.format(counted, 'M Y')}"
    return format_html('<time datetime="{}" title="{} (UTC)">{}</time>', counted.isoformat(), counted.isoformat(), text)
