"""Dates, times and numbers in the reader's language (docs/i18n.md), in the time zone that is
current (kernel.dates): German "07.12.2026, 14:05 UTC", "vor 3 Tagen", "7. Dezember 2026",
"1.234" where English says "7 Dec 2026, 14:05 UTC", "3 days ago", "Dec. 7, 2026", "1,234"."""

from datetime import UTC, datetime, timedelta

from django.template import Context, Template
from django.utils import timezone, translation
from django.utils.formats import date_format

from kernel.dates import human_datetime, relative, wait_text
from kernel.numbers import grouped

MOMENT = datetime(2026, 12, 7, 14, 5, tzinfo=UTC)


def test_the_exact_time_follows_the_language():
    with translation.override("en"):
        assert human_datetime(MOMENT) == "7 Dec 2026, 14:05 UTC"
    with translation.override("de"):
        assert human_datetime(MOMENT) == "07.12.2026, 14:05 UTC"
        with timezone.override("Europe/Berlin"):
            assert human_datetime(MOMENT) == "07.12.2026, 15:05 CET"


def test_relative_times_in_german_take_the_dative():
    cases = [
        (timedelta(days=3), "3\xa0days ago", "vor 3\xa0Tagen"),
        (timedelta(days=1), "1\xa0day ago", "vor 1\xa0Tag"),
        (timedelta(hours=-5), "in 5\xa0hours", "in 5\xa0Stunden"),
        (timedelta(days=-400), "in 1\xa0year", "in 1\xa0Jahr"),
        (timedelta(seconds=20), "just now", "gerade eben"),
        (timedelta(seconds=-20), "in less than a minute", "in weniger als einer Minute"),
    ]
    for ago, english, german in cases:
        with translation.override("en"):
            assert relative(MOMENT - ago, now=MOMENT) == english
        with translation.override("de"):
            assert relative(MOMENT - ago, now=MOMENT) == german


def test_waits_dates_and_numbers():
    with translation.override("de"):
        assert wait_text(90) == "90 Sekunden" and wait_text(900) == "15 Minuten"
        assert date_format(MOMENT.date()) == "7. Dezember 2026"
        assert grouped(1234) == "1.234" and grouped(1234567) == "1.234.567"
        assert Template("{{ d|date }}").render(Context({"d": MOMENT.date()})) == "7. Dezember 2026"
    with translation.override("en"):
        assert wait_text(90) == "90 seconds"
        assert grouped(1234) == "1,234"


def test_the_mail_filter_time_until_takes_the_dative():
    template = Template("{% load portal_l10n %}{{ due|time_until:now }}")
    context = Context({"due": MOMENT + timedelta(days=3, hours=4), "now": MOMENT})
    with translation.override("en"):
        assert template.render(context) == "3\xa0days, 4\xa0hours"
    with translation.override("de"):
        assert template.render(context) == "3\xa0Tagen, 4\xa0Stunden"


def test_the_grouped_filter():
    template = Template("{% load portal_l10n %}{{ n|grouped }}")
    with translation.override("de"):
        assert template.render(Context({"n": 12345})) == "12.345"
    with translation.override("en"):
        assert template.render(Context({"n": 12345})) == "12,345"
