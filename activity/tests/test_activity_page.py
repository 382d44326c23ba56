import csv
import io
import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from activity.audit import Audit
from activity.models import Action, ActivityEntry
from apikeys.models import KeyKind
from apikeys.services import key_create, key_delete, key_renew, key_update
from scopes.models import Scope

pytestmark = pytest.mark.django_db
URL = reverse("activity:list", kwargs={"code": "acme"})
CSV_URL = reverse("activity:csv", kwargs={"code": "acme"})


@pytest.fixture
def history(acme, alice):
    """A custom key created, changed and deleted, and the Emporix API key renewed."""
    scopes = Scope.objects.filter(name__in=["tax.tax_read", "brand.brand_manage"])
    key, _ = key_create(tenant=acme, kind=KeyKind.CUSTOM, name="Gone", scopes=scopes, audit=Audit(actor=alice))
    key_update(key=key, name="Gone soon", scopes=Scope.objects.filter(name="tax.tax_read"), audit=Audit(actor=alice))
    client_id = key.client_id
    key_delete(key=key, audit=Audit(actor=alice))
    emporix = acme.apikeys.get(kind=KeyKind.EMPORIX)
    key_renew(key=emporix, grace=timedelta(hours=24), audit=Audit(actor=alice))
    return {"deleted_client_id": client_id, "emporix": emporix}


def test_it_lists_entries_newest_first_with_readable_details(client_for, alice, history):
    response = client_for(alice).get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    renewed, deleted, changed = (
        body.index(f'<td data-label="What">{label}</td>') for label in ("Key renewed", "Key deleted", "Key changed")
    )
    assert renewed < deleted < changed
    assert "Renamed “Gone” → “Gone soon”" in body
    assert "Scopes removed: brand.brand_manage" in body
    assert "(grace 24 hours)" in body
    assert "alice@example.com" in body
    assert history["emporix"].client_id in body


def test_it_filters_by_action(client_for, alice, history):
    body = client_for(alice).get(URL, {"action": Action.KEY_RENEWED}).content.decode()
    assert '<td data-label="What">Key renewed</td>' in body and '<td data-label="What">Key deleted</td>' not in body


def test_it_filters_by_a_deleted_keys_client_id(client_for, alice, history):
    client_id = history["deleted_client_id"]
    body = client_for(alice).get(URL).content.decode()
    assert f'<option value="{client_id}"' not in body  # suggested by the search, not listed
    body = client_for(alice).get(URL, {"key": client_id}).content.decode()
    assert body.count("<tr>") == 1 + 3  # header, created, changed, deleted
    assert '<td data-label="What">Key renewed</td>' not in body


def test_an_unknown_filter_value_is_ignored_and_said(client_for, alice, history):
    response = client_for(alice).get(URL, {"action": "secret.stolen"})
    assert response.status_code == 200
    assert "This filter was ignored." in response.content.decode()


def test_it_pages_300_entries_by_50_with_a_constant_query_count(client_for, alice, acme, django_assert_max_num_queries):
    now = timezone.now()
    ActivityEntry.objects.bulk_create(
        ActivityEntry(
            tenant=acme,
            action=Action.SECRET_REVEALED,
            actor_email=f"user{n}@example.com",
            key_name="Emporix API",
            key_client_id="c" * 32,
            created_at=now + timedelta(days=1) - timedelta(minutes=n),
        )
        for n in range(300)
    )
    client = client_for(alice)
    client.get(URL)  # the session write of the first visit is not part of the count
    with django_assert_max_num_queries(12):
        response = client.get(URL, {"page": 2})
    body = response.content.decode()
    body = body[body.index("<table") :]  # the actor filter offers everyone; the rows are in the table
    assert "page 2 of 7" in response.content.decode()
    assert "user50@example.com" in body and "user99@example.com" in body
    assert "user49@example.com" not in body and "user100@example.com" not in body
    with django_assert_max_num_queries(12):
        client.get(URL, {"page": 7, "action": Action.SECRET_REVEALED})
    with django_assert_max_num_queries(12):
        response = client.get(URL, {"actor": "user7@example.com", "since": "2000-01-01", "until": "2999-12-31"})
    assert "1 entry." in response.content.decode()


def test_the_csv_has_the_filtered_entries_and_no_secret(client_for, alice, acme_secrets, history):
    response = client_for(alice).get(CSV_URL, {"key": history["deleted_client_id"]})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="activity-acme-')
    text = response.content.decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["time", "actor", "action", "key name", "client id", "details", "ip"]
    assert [row[2] for row in rows[1:]] == ["Key deleted", "Key changed", "Key created"]
    assert {row[4] for row in rows[1:]} == {history["deleted_client_id"]}
    assert json.loads(rows[2][5])["scopes_removed"] == ["brand.brand_manage"]
    everything = client_for(alice).get(CSV_URL).content.decode()
    for _, plaintext in acme_secrets.values():
        assert plaintext not in everything
    assert "akps_" not in everything and "akpt_" not in everything


def test_a_name_that_looks_like_a_formula_stays_text_in_the_csv(client_for, alice, acme):
    key_create(tenant=acme, kind=KeyKind.CUSTOM, name="=HYPERLINK(1)", scopes=Scope.objects.filter(name="tax.tax_read"))
    text = client_for(alice).get(CSV_URL).content.decode()
    assert "'=HYPERLINK(1)" in text


def test_the_page_never_shows_a_secret(client_for, alice, acme_secrets, history):
    body = client_for(alice).get(URL).content.decode()
    for _, plaintext in acme_secrets.values():
        assert plaintext not in body
    assert "akps_" not in body


def test_admins_see_an_activity_tab_and_others_do_not(client_for, alice, bob, acme):
    keys_url = reverse("apikeys:list", kwargs={"code": "acme"})
    assert URL in client_for(alice).get(keys_url).content.decode()
    assert URL not in client_for(bob).get(keys_url).content.decode()


def test_a_copied_secret_is_logged_by_which_secret_not_its_value(client_for, alice, acme_secrets):
    key, plaintext = acme_secrets[KeyKind.EMPORIX]
    client = client_for(alice)
    client.post(
        reverse("apikeys:secret", kwargs={"code": "acme", "key_id": key.public_id}),
        {"purpose": "copy"},
        HTTP_ACCEPT="application/json",
    )
    body = client.get(URL, {"action": Action.SECRET_COPIED}).content.decode()
    assert '<td data-label="What">Secret copied</td>' in body and "Which secret: current" in body
    assert plaintext not in body
