"""Times in the user's time zone: the My Account setting, else the zone the browser reported in
the `tz` cookie (portal.js), else TIME_ZONE (kernel.middleware.TimeZoneMiddleware)."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from activity.models import ActivityEntry

pytestmark = pytest.mark.django_db

MOMENT = datetime(2026, 11, 27, 16, 51, 7, tzinfo=UTC)


@pytest.fixture
def logged_entry(acme, alice):
    entry = ActivityEntry.objects.filter(tenant=acme).first()
    ActivityEntry.objects.filter(pk=entry.pk).update(created_at=MOMENT)
    return entry


def _activity(client):
    return client.get(reverse("activity:list", kwargs={"code": "acme"})).content.decode()


def test_without_a_setting_or_cookie_times_are_in_utc(client_for, alice, logged_entry):
    body = _activity(client_for(alice))
    assert 'datetime="2026-11-27T16:51:07+00:00" title="27 Nov 2026, 16:51 UTC"' in body


def test_the_browsers_zone_from_the_cookie_is_used(client_for, alice, logged_entry):
    client = client_for(alice)
    client.cookies["tz"] = "America/New_York"
    assert 'datetime="2026-11-27T11:51:07-05:00" title="27 Nov 2026, 11:51 EST"' in _activity(client)
    client.cookies["tz"] = "Nowhere/Special"  # unknown: ignored, never an error
    assert 'title="27 Nov 2026, 16:51 UTC"' in _activity(client)


def test_the_my_account_setting_wins_over_the_browser(client_for, alice, logged_entry):
    client = client_for(alice)
    client.cookies["tz"] = "America/New_York"
    response = client.post(reverse("time_zone_set"), {"time_zone": "Asia/Tokyo"})
    assert response.status_code == 302 and response["Location"].endswith("#time-zone")
    alice.refresh_from_db()
    assert alice.time_zone == "Asia/Tokyo"
    page = client.get(reverse("my_account")).content.decode()
    assert "<option selected>Asia/Tokyo</option>" in page and "Times are now shown in Asia/Tokyo." in page
    assert 'title="28 Nov 2026, 01:51 JST"' in _activity(client)

    client.post(reverse("time_zone_set"), {"time_zone": ""})  # back to the browser's zone
    alice.refresh_from_db()
    assert alice.time_zone == ""
    assert 'title="27 Nov 2026, 11:51 EST"' in _activity(client)


def test_an_unknown_zone_is_refused_with_a_message(client_for, alice):
    client = client_for(alice)
    response = client.post(reverse("time_zone_set"), {"time_zone": "Mars/Olympus"}, follow=True)
    assert response.status_code == 200 and "Choose a time zone from the list." in response.content.decode()
    alice.refresh_from_db()
    assert alice.time_zone == ""
