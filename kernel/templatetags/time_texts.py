"""Times as text for mails, in the current language (kernel.dates)."""

from datetime import datetime

from django import template
from django.utils.timesince import timeuntil

from kernel.dates import RELATIVE_UNITS

register = template.Library()


@register.filter
def time_until(value: datetime, now: datetime | None = None) -> str:
    """Django's `timeuntil` ("3 days, 4 hours"), in the form that follows "in": German "in
    3 Tagen, 4 Stunden" where Django's own filter says "3 Tage"."""
    return timeuntil(value, now, time_strings=RELATIVE_UNITS)
