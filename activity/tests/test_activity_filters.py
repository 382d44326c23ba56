"""The activity page's date range and actor filters, the shortened Client IDs, the words of
the CSV and the markup that keeps every column reachable on a phone."""

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from activity.models import Action, ActivityEntry

pytestmark = pytest.mark.django_db
URL = reverse("activity:list", kwargs={"code": "acme"})
CSV_URL = reverse("activity:csv", kwargs={"code": "acme"})
CLIENT_ID = "abcdef" + "x" * 22 + "wxyz"


@pytest.fixture
def entries(acme):
    """One entry a day, 1 to 5 Nov 2026 at 23:30 UTC, alternately by alice and dave."""
    ActivityEntry.objects.filter(tenant=acme).delete()  # the tenant's creation
    made = []
    for day in range(1, 6):
        made.append(
            ActivityEntry.objects.create(
                tenant=acme,
                action=Action.SECRET_REVEALED,
                actor_email="alice@example.com" if day % 2 else "dave@example.com",
                key_name="Shop",
                key_client_id=CLIENT_ID,
                details={"day": day},
                created_at=datetime(2026, 11, day, 23, 30, tzinfo=ZoneInfo("UTC")),
            )
        )
    return made


def days_shown(response) -> list[int]:
    body = response.content.decode()
    return sorted(day for day in range(1, 6) if f"<li>Day: {day}</li>" in body)


def test_a_date_range_includes_both_whole_days(client_for, alice, entries):
    response = client_for(alice).get(URL, {"since": "2026-11-02", "until": "2026-11-04"})
    assert response.status_code == 200
    assert days_shown(response) == [2, 3, 4]
    assert days_shown(client_for(alice).get(URL, {"since": "2026-11-04"})) == [4, 5]
    assert days_shown(client_for(alice).get(URL, {"until": "2026-11-01"})) == [1]


def test_days_are_the_portals_time_zone(client_for, alice, entries, settings):
    settings.TIME_ZONE = "Europe/Berlin"  # 23:30 UTC on the 2nd is 00:30 on the 3rd there
    assert days_shown(client_for(alice).get(URL, {"since": "2026-11-03", "until": "2026-11-03"})) == [2]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"since": "yesterday"}, "From: Enter a real date, e.g. 2026-11-27."),
        ({"until": "2026-02-30"}, "To: Enter a real date, e.g. 2026-11-27."),
        ({"until": "9999-12-31"}, "To: Enter a date between 2000-01-01 and 2999-12-31."),
        ({"since": "0001-01-01"}, "From: Enter a date between 2000-01-01 and 2999-12-31."),
        ({"since": "2026-11-04", "until": "2026-11-02"}, "To: The end date is before the start date."),
    ],
)
def test_a_bad_date_is_a_clear_error_and_is_ignored(client_for, alice, entries, query, message):
    response = client_for(alice).get(URL, query)
    assert response.status_code == 200
    body = response.content.decode()
    summary = body[body.index("data-error-summary") : body.index("</ul>", body.index("data-error-summary"))]
    assert "These filters were ignored" in summary and message in summary
    field = next(iter(query)) if "until" not in query else "until"
    assert f'href="#id_{field}"' in summary
    assert f'id="id_{field}_error"' in body and 'aria-invalid="true"' in body
    kept = [day for day in range(1, 6) if "since" not in query or field == "since" or day >= 4]
    assert days_shown(response) == kept


def test_a_bad_date_in_the_csv_is_ignored_too(client_for, alice, entries):
    response = client_for(alice).get(CSV_URL, {"since": "not a date"})
    assert response.status_code == 200
    assert len(list(csv.reader(io.StringIO(response.content.decode())))) == 1 + 5


def test_it_filters_by_actor_offering_everyone_in_the_log(client_for, alice, entries):
    client = client_for(alice)
    body = client.get(URL).content.decode()
    assert '<option value="alice@example.com">alice@example.com</option>' in body
    assert '<option value="dave@example.com">dave@example.com</option>' in body
    assert days_shown(client.get(URL, {"actor": "dave@example.com"})) == [2, 4]
    rows = list(csv.reader(io.StringIO(client.get(CSV_URL, {"actor": "dave@example.com"}).content.decode())))
    assert [row[1] for row in rows[1:]] == ["dave@example.com", "dave@example.com"]
    ignored = client.get(URL, {"actor": "mallory@example.com"})
    assert "This filter was ignored." in ignored.content.decode() and days_shown(ignored) == [1, 2, 3, 4, 5]


def test_the_csv_says_actions_in_words(client_for, alice, entries):
    rows = list(csv.reader(io.StringIO(client_for(alice).get(CSV_URL).content.decode())))
    assert {row[2] for row in rows[1:]} == {"Secret revealed"}
    assert "secret.revealed" not in client_for(alice).get(CSV_URL).content.decode()


def test_client_ids_are_shortened_with_the_full_value_and_a_copy_button(client_for, alice, entries):
    body = client_for(alice).get(URL).content.decode()
    assert f'<code title="{CLIENT_ID}"><span aria-hidden="true">abcdef…wxyz</span>' in body
    assert f'<span class="visually-hidden">Client ID {CLIENT_ID}</span>' in body
    assert f'data-copy-text="{CLIENT_ID}"' in body and 'aria-label="Copy Client ID of Shop"' in body


def test_every_cell_is_labelled_for_the_phone_layout_and_the_table_region_is_focusable(client_for, alice, entries):
    body = client_for(alice).get(URL).content.decode()
    assert '<div class="table-wrap" tabindex="0" role="region" aria-labelledby="activity-caption">' in body
    cells = body.count("<td")
    assert cells == 6 * 5
    for label in ("When", "Who", "What", "Key", "Details", "IP address"):
        assert body.count(f'<td data-label="{label}">') == 5


def test_the_edges_of_the_accepted_range_work(client_for, alice, entries):
    response = client_for(alice).get(URL, {"since": "2000-01-01", "until": "2999-12-31"})
    assert response.status_code == 200 and days_shown(response) == [1, 2, 3, 4, 5]
