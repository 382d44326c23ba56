"""Every date a page shows is a <time> with ISO 8601 for machines, the time relative to now
for people and one exact format, with the time zone, on hover (kernel.dates, {% when %}), in
the user's time zone."""

from datetime import UTC, datetime, timedelta

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from activity.display import details_lines
from activity.models import Action, ActivityEntry
from apikeys.models import ApiSecret, KeyKind
from apikeys.services import key_renew
from kernel.dates import human_datetime, relative, valid_zone, wait_text

MOMENT = datetime(2026, 11, 27, 16, 51, 7, 123456, tzinfo=UTC)


def render(source: str, **context) -> str:
    return Template("{% load portal_tags %}" + source).render(Context(context))


def test_it_shows_day_month_year_time_and_zone():
    assert human_datetime(MOMENT) == "27 Nov 2026, 16:51 UTC"


def test_it_shows_the_current_time_zone():
    with timezone.override("Europe/Berlin"):
        assert human_datetime(MOMENT) == "27 Nov 2026, 17:51 CET"
        shown = render("{% when value %}", value=MOMENT)
        assert shown.startswith('<time datetime="2026-11-27T17:51:07.123456+01:00" title="27 Nov 2026, 17:51 CET">')


# (how long before MOMENT, what relative() says): Django's timesince, one unit, a non-breaking
# space between number and unit (static/js/portal.js counts the same way: test_browser_times.py).
RELATIVE = [
    (timedelta(seconds=20), "just now"),
    (timedelta(minutes=1), "1\xa0minute ago"),
    (timedelta(minutes=59, seconds=59), "59\xa0minutes ago"),
    (timedelta(hours=5), "5\xa0hours ago"),
    (timedelta(days=3, hours=23), "3\xa0days ago"),
    (timedelta(days=13), "1\xa0week ago"),
    (timedelta(days=45), "1\xa0month ago"),
    (timedelta(days=800), "2\xa0years ago"),
    (-timedelta(hours=23, minutes=59), "in 23\xa0hours"),
    (-timedelta(days=7), "in 1\xa0week"),
    (-timedelta(days=40), "in 1\xa0month"),
    (-timedelta(seconds=10), "in less than a minute"),
]


@pytest.mark.parametrize(("delta", "text"), RELATIVE)
def test_it_says_how_long_ago_in_the_largest_whole_unit(delta, text):
    assert relative(MOMENT - delta, now=MOMENT) == text


def test_months_and_years_follow_the_calendar():
    # 28 days from 31 January is not yet a month; 1 March is (timesince's calendar months).
    assert (
        relative(datetime(2026, 1, 31, 12, tzinfo=UTC), now=datetime(2026, 2, 28, 12, tzinfo=UTC)) == "4\xa0weeks ago"
    )
    assert relative(datetime(2026, 1, 31, 12, tzinfo=UTC), now=datetime(2026, 3, 1, 12, tzinfo=UTC)) == "1\xa0month ago"
    assert relative(datetime(2025, 2, 28, tzinfo=UTC), now=datetime(2026, 2, 27, 23, tzinfo=UTC)) == "11\xa0months ago"
    assert relative(datetime(2025, 2, 28, tzinfo=UTC), now=datetime(2026, 2, 28, tzinfo=UTC)) == "1\xa0year ago"


def test_the_relative_time_is_the_same_in_every_time_zone():
    # Counted in UTC: across a daylight-saving change (Berlin, 29 March 2026) an hour is an hour.
    then, now = datetime(2026, 3, 29, 0, 30, tzinfo=UTC), datetime(2026, 3, 29, 3, 30, tzinfo=UTC)
    for zone in ("UTC", "Europe/Berlin", "Pacific/Auckland"):
        with timezone.override(zone):
            assert relative(timezone.localtime(then), now=timezone.localtime(now)) == "3\xa0hours ago"


def test_the_tag_shows_the_relative_time_with_the_exact_one_on_hover():
    shown = render("{% when value %}", value=timezone.now() - timedelta(days=3, minutes=5))
    assert shown.endswith(">3\xa0days ago</time>") and 'title="' in shown and " UTC" in shown


def test_only_known_zone_names_are_taken():
    assert str(valid_zone("Europe/Berlin")) == "Europe/Berlin"
    for name in ["", None, "Mars/Olympus", "../etc/passwd", "Europe/Berlin" * 10, "localtime"]:
        assert valid_zone(name) is None


def test_the_tag_gives_the_empty_text_for_none():
    assert render("{% when value %}", value=None) == ""
    assert render('Last used {% when value "never" %}', value=None) == "Last used never"


@pytest.mark.django_db
def test_the_activity_details_use_the_same_format(acme_secrets):
    key, _ = acme_secrets[KeyKind.EMPORIX]
    key_renew(key=key, grace=timedelta(hours=24))
    entry = ActivityEntry.objects.get(action=Action.KEY_RENEWED)
    stops = ApiSecret.objects.get(key=key, expires_at__isnull=False).expires_at
    assert details_lines(entry) == [f"Old secret works until {human_datetime(stops)} (grace 24 hours)"]
    revealed = ActivityEntry(action=Action.SECRET_REVEALED, details={"secret_created": MOMENT.isoformat()})
    assert "Secret created: 27 Nov 2026, 16:51 UTC" in details_lines(revealed)


@pytest.mark.django_db
def test_the_key_rows_show_their_dates_this_way(client_for, alice, acme_secrets):
    key, _ = acme_secrets[KeyKind.EMPORIX]
    body = client_for(alice).get(reverse("apikeys:list", kwargs={"code": "acme"})).content.decode()
    created = timezone.localtime(key.created_at)
    assert f'Created <time datetime="{created.isoformat()}" title="{human_datetime(created)}">just now</time>' in body
    assert "Last renewed never" in body


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "1 second"),
        (0.2, "1 second"),
        (1, "1 second"),
        (2, "2 seconds"),
        (119, "119 seconds"),
        (120, "2 minutes"),
        (121, "3 minutes"),
        (900, "15 minutes"),
    ],
)
def test_a_wait_is_said_in_seconds_or_minutes_never_minute_s(seconds, text):
    assert wait_text(seconds) == text
