"""The activity page's key filter is a search (part of a name, any case, or part of a Client
ID) with suggestions from a small JSON endpoint: this tenant's log only, for its admins only,
at most 20, the latest name of each key, deleted ones marked. The page lists no key."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from activity.models import Action, ActivityEntry
from activity.suggestions import LIMIT

pytestmark = pytest.mark.django_db
URL = reverse("activity:list", kwargs={"code": "acme"})
KEYS = reverse("activity:keys", kwargs={"code": "acme"})
SHOP = "Sh0pAAAA" + "a" * 20 + "zzzz"
ERP = "Erp0BBBB" + "b" * 20 + "yyyy"


def _entry(tenant, client_id, name, action=Action.KEY_CHANGED, minutes_ago=0):
    return ActivityEntry.objects.create(
        tenant=tenant,
        action=action,
        actor_email="alice@example.com",
        key_name=name,
        key_client_id=client_id,
        details={"mark": f"{name} {minutes_ago}"},
        created_at=timezone.now() - timedelta(minutes=minutes_ago),
    )


@pytest.fixture
def log(acme):
    ActivityEntry.objects.filter(tenant=acme).delete()
    _entry(acme, SHOP, "Web shop", Action.KEY_CREATED, minutes_ago=30)
    _entry(acme, SHOP, "Storefront shop", minutes_ago=20)  # renamed later
    _entry(acme, ERP, "ERP orders", minutes_ago=10)
    _entry(acme, ERP, "ERP orders", Action.KEY_DELETED, minutes_ago=5)


def marks(response) -> set[str]:
    body = response.content.decode()
    return {line for line in ("Web shop 30", "Storefront shop 20", "ERP orders 10", "ERP orders 5") if line in body}


def test_the_key_filter_is_a_text_search_without_a_list_of_keys(client_for, alice, log):
    body = client_for(alice).get(URL).content.decode()
    assert '<input type="search" name="key"' in body and 'data-suggest-url="/tenants/acme/activity/keys.json"' in body
    assert 'aria-describedby="id_key_helptext"' in body and "Part of a key&#x27;s name or Client ID." in body
    assert SHOP not in body[: body.index("<table")]  # no <option> per key before the rows


def test_it_finds_entries_by_any_part_of_the_name_in_any_case(client_for, alice, log):
    client = client_for(alice)
    assert marks(client.get(URL, {"key": "SHOP"})) == {"Web shop 30", "Storefront shop 20"}
    assert marks(client.get(URL, {"key": "front"})) == {"Storefront shop 20"}
    assert marks(client.get(URL, {"key": "erp"})) == {"ERP orders 10", "ERP orders 5"}
    nothing = client.get(URL, {"key": "payroll"}).content.decode()
    assert "No activity matches these filters." in nothing


def test_a_client_id_finds_every_entry_of_its_key_whatever_it_was_called(client_for, alice, log):
    client = client_for(alice)
    assert marks(client.get(URL, {"key": SHOP})) == {"Web shop 30", "Storefront shop 20"}
    assert marks(client.get(URL, {"key": SHOP[:8]})) == {"Web shop 30", "Storefront shop 20"}
    assert marks(client.get(URL, {"key": f"  {ERP} "})) == {"ERP orders 10", "ERP orders 5"}


def test_the_csv_uses_the_same_search(client_for, alice, log):
    body = client_for(alice).get(reverse("activity:csv", kwargs={"code": "acme"}), {"key": "front"}).content.decode()
    assert body.count("\n") == 2 and "Storefront shop" in body


def test_a_too_long_search_is_a_clear_error_and_is_ignored(client_for, alice, log):
    response = client_for(alice).get(URL, {"key": "x" * 65})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Ensure this value has at most 64 characters (it has 65). This filter was ignored." in body
    assert len(marks(response)) == 4


def test_suggestions_match_name_or_client_id_newest_first_with_the_latest_name(client_for, alice, log):
    client = client_for(alice)
    response = client.get(KEYS, {"q": "shop"})
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    assert response.json() == {"keys": [{"client_id": SHOP, "name": "Storefront shop", "deleted": False}]}
    assert client.get(KEYS, {"q": "Web"}).json()["keys"][0]["name"] == "Storefront shop"  # an old name finds it
    assert client.get(KEYS, {"q": ERP[:6]}).json() == {
        "keys": [{"client_id": ERP, "name": "ERP orders", "deleted": True}]
    }
    everything = client.get(KEYS).json()["keys"]
    assert [key["client_id"] for key in everything] == [ERP, SHOP]  # most recently active first
    assert client.get(KEYS, {"q": "nothing like it"}).json() == {"keys": []}


def test_suggestions_are_at_most_twenty_and_cost_a_fixed_number_of_queries(
    client_for, alice, acme, django_assert_max_num_queries
):
    ActivityEntry.objects.bulk_create(
        ActivityEntry(tenant=acme, action=Action.KEY_CREATED, key_name=f"Key {n:03}", key_client_id=f"{n:032}")
        for n in range(200)
    )
    client = client_for(alice)
    client.get(KEYS)
    with django_assert_max_num_queries(8):
        keys = client.get(KEYS, {"q": "key"}).json()["keys"]
    assert len(keys) == LIMIT == 20


def test_suggestions_stay_in_the_tenant_and_are_for_its_admins(client_for, alice, bob, dave, charlie, acme, globex):
    _entry(globex, ERP, "Globex secret project")
    assert client_for(alice).get(KEYS, {"q": "Globex"}).json() == {"keys": []}
    assert client_for(dave).get(KEYS).status_code == 403  # a developer
    assert client_for(bob).get(KEYS).status_code == 403  # a viewer
    assert client_for(charlie).get(KEYS).status_code == 404  # not a member of acme
    assert client_for(alice).post(KEYS).status_code == 405
