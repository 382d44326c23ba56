"""Times and numbers as text, in the current language ({% load portal_l10n %}; docs/i18n.md)."""

from datetime import datetime

from django import template
from django.utils.timesince import timeuntil

from kernel.dates import RELATIVE_UNITS
from kernel.numbers import grouped as grouped_number

register = template.Library()


@register.filter
def time_until(value: datetime, now: datetime | None = None) -> str:
    """Django's `timeuntil` ("3 days, 4 hours"), in the form that follows "in": German "in
    3 Tagen, 4 Stunden" where Django's own filter says "3 Tage"."""
    return timeuntil(value, now, time_strings=RELATIVE_UNITS)


@register.filter
def grouped(value: int | float) -> str:
    """`1,234` in English, `1.234` in German (kernel.numbers.grouped)."""
    return grouped_number(value)
