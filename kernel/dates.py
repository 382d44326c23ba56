"""How the portal shows a date and time to people: relative ("3 days ago") with one exact
format, with the time zone, beside it, in the current time zone: the user's own (a My Account
setting), else the one their browser reported (the `tz` cookie portal.js sets), else
settings.TIME_ZONE (TimeZoneMiddleware). Machine-readable copies (CSV, JSON) stay ISO 8601."""

import math
import zoneinfo
from datetime import UTC, datetime
from functools import cache

from django.utils import dateformat, timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import get_language, gettext, ngettext, npgettext_lazy

# e.g. "27 Nov 2026, 16:51 UTC"; German "27.11.2026, 16:51 UTC" (HUMAN_FORMATS).
HUMAN_FORMAT = "j M Y, H:i T"
HUMAN_FORMATS = {"de": "d.m.Y, H:i T"}
# Django's timesince units, in the form "… ago" and "in …" need: the same English, but German
# says "vor 3 Tagen" and "in 3 Tagen" (dative), where Django's own catalogue has "3 Tage".
RELATIVE_UNITS = {
    "year": npgettext_lazy("relative time", "%(num)d year", "%(num)d years", "num"),
    "month": npgettext_lazy("relative time", "%(num)d month", "%(num)d months", "num"),
    "week": npgettext_lazy("relative time", "%(num)d week", "%(num)d weeks", "num"),
    "day": npgettext_lazy("relative time", "%(num)d day", "%(num)d days", "num"),
    "hour": npgettext_lazy("relative time", "%(num)d hour", "%(num)d hours", "num"),
    "minute": npgettext_lazy("relative time", "%(num)d minute", "%(num)d minutes", "num"),
}
# The cookie portal.js sets to the browser's IANA time zone (Intl.DateTimeFormat).
ZONE_COOKIE = "tz"


# The keys page shows a relative time per row (up to 5,000): the texts are looked up once per
# language and number, not per row (a gettext look-up costs microseconds).
@cache
def _unit_text(language: str, name: str, num: int) -> str:
    with translation.override(language):
        return RELATIVE_UNITS[name] % {"num": num}


@cache
def _phrases(language: str) -> tuple[str, str, str, str]:
    with translation.override(language):
        return gettext("just now"), gettext("in less than a minute"), gettext("%(time)s ago"), gettext("in %(time)s")


class _Unit:
    """What timesince formats with `unit % {"num": n}`, from the cache."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __mod__(self, values: dict[str, int]) -> str:
        return _unit_text(get_language(), self.name, values["num"])


_UNITS = {name: _Unit(name) for name in RELATIVE_UNITS}


def human_datetime(value: datetime) -> str:
    """In the current language's format (one dictionary look-up: the keys page calls it per row)."""
    return dateformat.format(timezone.localtime(value), HUMAN_FORMATS.get(get_language(), HUMAN_FORMAT))


def iso_datetime(value: datetime) -> str:
    return timezone.localtime(value).isoformat()


def relative(value: datetime, now: datetime | None = None) -> str:
    """'just now', '5 minutes ago', '3 days ago', 'in 1 week': Django's timesince (or
    timeuntil) with one unit, the largest (years and months by the calendar, then weeks, days,
    hours, minutes; a non-breaking space between the number and the unit). Under a minute it
    says 'just now' (or 'in less than a minute'), not the seconds: pages re-count their times
    once a minute (static/js/portal.js, which counts the same way). Counted in UTC, whatever
    the current time zone: the text is the same for everyone, and no day lasts 23 or 25 hours."""
    now = now or timezone.now()
    seconds = (now - value).total_seconds()
    just_now, less_than_a_minute, ago, within = _phrases(get_language())
    if abs(seconds) < 60:
        return just_now if seconds >= 0 else less_than_a_minute
    value, now = value.astimezone(UTC), now.astimezone(UTC)
    if seconds > 0:
        return ago % {"time": timesince(value, now, time_strings=_UNITS, depth=1)}
    return within % {"time": timeuntil(value, now, time_strings=_UNITS, depth=1)}


def human_from_iso(value: str) -> str:
    """An ISO 8601 timestamp (as activity details keep them) in the human format; anything
    that is not one is returned unchanged."""
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None or timezone.is_naive(parsed):
        return value
    return human_datetime(parsed)


def wait_text(seconds: float) -> str:
    """How long to wait before trying again, for "Try again in {wait_text}.": whole seconds
    under two minutes ("1 second", "45 seconds"), else whole minutes rounded up ("2 minutes",
    "15 minutes"); singular and plural by Django's ngettext. Every rate limit's message
    (logins, second factors, resets, secrets shown, tenants, invitations, the 429 page) says
    its wait with this one function, so that they read alike."""
    seconds = max(1, math.ceil(seconds))
    if seconds < 120:
        return ngettext("%(count)d second", "%(count)d seconds", seconds) % {"count": seconds}
    minutes = math.ceil(seconds / 60)
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


def zone_names() -> list[str]:
    """Every IANA time zone this system knows, sorted (the choices of the My Account setting)."""
    return sorted(name for name in zoneinfo.available_timezones() if "/" in name or name == "UTC")


def valid_zone(name: str | None) -> zoneinfo.ZoneInfo | None:
    """The zone named `name` if it is one of zone_names(), else None (never an error: the
    name may come from a cookie)."""
    if not name or len(name) > 64 or name not in _zone_set():
        return None
    return zoneinfo.ZoneInfo(name)


@cache
def _zone_set() -> frozenset[str]:
    return frozenset(zone_names())
