"""Every date a page shows is a <time> with ISO 8601 for machines and one human format, with
the time zone, for people (portal.dates, {% when %})."""

from datetime import UTC, datetime, timedelta

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from activity.display import details_lines
from activity.models import Action, ActivityEntry
from apikeys.models import ApiSecret, KeyKind
from apikeys.services import key_renew
from portal.dates import human_datetime

MOMENT = datetime(2026, 11, 27, 16, 51, 7, 123456, tzinfo=UTC)


def render(source: str, **context) -> str:
    return Template("{% load portal_tags %}" + source).render(Context(context))


def test_it_shows_day_month_year_time_and_zone():
    assert human_datetime(MOMENT) == "27 Nov 2026, 16:51 UTC"


def test_it_shows_the_current_time_zone():
    with timezone.override("Europe/Berlin"):
        assert human_datetime(MOMENT) == "27 Nov 2026, 17:51 CET"
        assert render("{% when value %}", value=MOMENT) == (
            '<time datetime="2026-11-27T17:51:07.123456+01:00">27 Nov 2026, 17:51 CET</time>'
        )


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
    assert f'Created <time datetime="{created.isoformat()}">{human_datetime(created)}</time>' in body
    assert "Last renewed never" in body
