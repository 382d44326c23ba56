"""Bulk actions on keys (issue 20): ticked keys, all on the page or all matching the search,
disabled, enabled or deleted after one confirmation page (behind one re-authentication), each
change in the activity log; built-in keys are never deleted; another tenant's ids are ignored;
admins only. And the inventory export: a streamed CSV of every matching key, no secret,
formula-safe, in a bounded number of queries."""

import csv
import io
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from activity.models import Action, ActivityEntry
from apikeys.models import ApiKey, ApiSecret, KeyKind
from apikeys.services import KeyMetadata, key_create, key_disable, key_metadata_set
from bench.key_list import add_custom_keys
from scopes.models import Scope

pytestmark = pytest.mark.django_db
BULK = reverse("apikeys:bulk", kwargs={"code": "acme"})
EXPORT = reverse("apikeys:export", kwargs={"code": "acme"})
LIST = reverse("apikeys:list", kwargs={"code": "acme"})


def _custom(tenant, name, **metadata):
    key, _ = key_create(
        tenant=tenant,
        kind=KeyKind.CUSTOM,
        name=name,
        scopes=Scope.objects.filter(name__in=["tax.tax_read", "tax.tax_manage"]),
        metadata=KeyMetadata(**metadata),
    )
    return key


@pytest.fixture
def three(acme):
    return [_custom(acme, name) for name in ("One", "Two", "Three")]


def _ids(*keys):
    return [str(key.public_id) for key in keys]


# --- Bulk actions ----------------------------------------------------------------------------


def test_the_table_offers_checkboxes_and_the_bulk_form_to_admins_only(client_for, alice, dave, three):
    text = client_for(alice).get(LIST, {"view": "table"}).content.decode()
    assert 'id="bulk-form"' in text and f'name="key" value="{three[0].public_id}" form="bulk-form"' in text
    assert 'name="page_key"' in text and "All 3 on this page" in text
    assert 'id="bulk-form"' not in client_for(dave).get(LIST, {"view": "table"}).content.decode()


def test_disabling_ticked_keys_confirms_once_then_records_each(client_for, alice, three):
    client = client_for(alice)
    query = {"action": "disable", "scope": "selected", "key": _ids(three[0], three[1])}
    page = client.get(BULK, query)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Disable 2 keys?" in text and "One" in text and "Two" in text and "Three" not in text
    assert all(key.disabled_at is None for key in ApiKey.objects.filter(kind=KeyKind.CUSTOM))  # nothing yet
    response = client.post(BULK, query)
    assert response.status_code == 302
    disabled = set(ApiKey.objects.filter(disabled_at__isnull=False).values_list("name", flat=True))
    assert disabled == {"One", "Two"}
    assert ActivityEntry.objects.filter(action=Action.KEY_DISABLED).count() == 2
    assert "2 keys disabled." in client.get(response.url).content.decode()


def test_enable_applies_to_every_key_of_the_page(client_for, alice, three):
    for key in three:
        key_disable(key=key)
    client = client_for(alice)
    query = {"action": "enable", "scope": "page", "page_key": _ids(*three)}
    assert "Enable 3 keys?" in client.get(BULK, query).content.decode()
    client.post(BULK, query)
    assert not ApiKey.objects.filter(disabled_at__isnull=False).exists()
    assert ActivityEntry.objects.filter(action=Action.KEY_ENABLED).count() == 3


def test_all_matching_the_search_deletes_every_match_and_skips_the_built_in_keys(client_for, alice, acme, three):
    other = _custom(acme, "Other")
    for key in (three[0], three[1], other, *ApiKey.objects.filter(tenant=acme).exclude(kind=KeyKind.CUSTOM)):
        key_metadata_set(key=key, metadata=KeyMetadata(environment="staging"))
    client = client_for(alice)
    query = {"action": "delete", "scope": "matching", "kind": "all", "environment": "staging"}
    text = client.get(BULK, query).content.decode()
    assert "Emporix API and Storefront API will be skipped: the built-in keys cannot be deleted." in text
    assert "Delete 3 keys?" in text
    response = client.post(BULK, query)
    assert set(ApiKey.objects.filter(tenant=acme).values_list("name", flat=True)) == {
        "Emporix API",
        "Storefront API",
        "Three",
    }
    assert ActivityEntry.objects.filter(action=Action.KEY_DELETED).count() == 3
    message = client.get(response.url).content.decode()
    assert "3 keys deleted. Skipped Emporix API, Storefront API: the built-in keys cannot be deleted." in message


def test_disabling_a_built_in_key_in_bulk_warns_first(client_for, alice, acme):
    emporix = ApiKey.objects.get(tenant=acme, kind=KeyKind.EMPORIX)
    text = client_for(alice).get(BULK, {"action": "disable", "key": _ids(emporix)}).content.decode()
    assert "This includes the tenant's Emporix API key" in text


def test_another_tenants_keys_are_ignored(client_for, alice, acme, globex, three):
    theirs = _custom(globex, "Theirs")
    client = client_for(alice)
    query = {"action": "delete", "key": [*_ids(three[0], theirs), "not-an-id"]}
    text = client.get(BULK, query).content.decode()
    assert "Delete 1 key?" in text and "Theirs" not in text
    assert "2 selected ids did not name a key of this tenant and were ignored." in text
    client.post(BULK, query)
    assert ApiKey.objects.filter(pk=theirs.pk).exists()
    assert not ApiKey.objects.filter(pk=three[0].pk).exists()
    only_theirs = client.post(BULK, {"action": "delete", "key": _ids(theirs)})
    assert only_theirs.status_code == 302 and ApiKey.objects.filter(pk=theirs.pk).exists()


def test_developers_and_viewers_are_refused(client_for, bob, dave, three):
    query = {"action": "delete", "key": _ids(*three)}
    for user in (bob, dave):
        client = client_for(user)
        assert client.get(BULK, query).status_code == 403
        assert client.post(BULK, query).status_code == 403
    assert ApiKey.objects.filter(kind=KeyKind.CUSTOM).count() == 3


def test_the_confirmation_needs_a_recent_authentication_once(client, alice, three, reauthenticated):
    client.force_login(alice)
    query = {"action": "disable", "key": _ids(three[0])}
    asked = client.get(BULK, query)
    assert asked.status_code == 302 and "/accounts/reauthenticate/" in asked.url
    assert parse_qs(urlsplit(asked.url).query)["next"] == [f"{BULK}?action=disable&key={three[0].public_id}"]
    refused = client.post(BULK, query)
    assert refused.status_code == 302 and "/accounts/reauthenticate/" in refused.url
    back = parse_qs(urlsplit(refused.url).query)["next"][0]  # the confirmation page, same selection
    assert back == f"{BULK}?action=disable&key={three[0].public_id}"
    assert ApiKey.objects.get(pk=three[0].pk).disabled_at is None
    reauthenticated(client)
    assert client.get(BULK, query).status_code == 200
    client.post(BULK, query)
    assert ApiKey.objects.get(pk=three[0].pk).disabled_at is not None


def test_no_action_or_no_key_goes_back_to_the_list_with_a_message(client_for, alice, three):
    client = client_for(alice)
    for query in ({"action": "explode", "key": _ids(three[0])}, {"action": "disable"}):
        response = client.get(BULK, query)
        assert response.status_code == 302 and response.url.startswith(LIST)
    assert not ApiKey.objects.filter(disabled_at__isnull=False).exists()


# --- Inventory export ------------------------------------------------------------------------


def _csv(response):
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv") and response["Cache-Control"] == "no-store"
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_export_lists_matching_keys_with_their_metadata_and_no_secret(client_for, alice, dave, acme_secrets):
    acme = dave.memberships.get().tenant
    key = _custom(acme, "ERP", description="Orders", owner=dave, environment="production", labels=("erp", "sync"))
    _custom(acme, "Shop")
    rows = _csv(client_for(dave).get(EXPORT, {"kind": "all", "label": "erp"}))
    assert [row["name"] for row in rows] == ["ERP"]
    row = rows[0]
    assert row["client_id"] == key.client_id and row["kind"] == "Custom API"
    assert (row["owner"], row["environment"], row["labels"]) == ("dave@example.com", "production", "erp sync")
    assert row["scopes"] == "tax.tax_manage tax.tax_read" and row["status"] == "enabled"
    assert row["last_used"] == "" and row["created"] == key.created_at.isoformat()
    everything = _csv(client_for(dave).get(EXPORT, {"kind": "all"}))
    assert {row["name"] for row in everything} == {"Emporix API", "Storefront API", "ERP", "Shop"}
    text = str(everything)
    for _, secret in acme_secrets.values():
        assert secret not in text
    assert "ciphertext" not in text


def test_export_cells_that_look_like_formulas_stay_text(client_for, alice, acme):
    _custom(acme, "=HYPERLINK(1)", description="+1 call me")
    _custom(acme, "@sum", description="-minus")
    rows = _csv(client_for(alice).get(EXPORT))
    assert {row["name"] for row in rows} == {"'=HYPERLINK(1)", "'@sum"}
    assert {row["description"] for row in rows} == {"'+1 call me", "'-minus"}


def test_the_export_runs_a_bounded_number_of_queries_however_many_keys(client_for, alice, acme):
    client = client_for(alice)
    client.get(LIST)  # settle the session
    add_custom_keys(acme, 3)

    def count():
        with CaptureQueriesContext(connection) as captured:
            rows = _csv(client.get(EXPORT))
        return len(captured.captured_queries), len(rows)

    few, three = count()
    add_custom_keys(acme, 1200, prefix="More")
    many, total = count()
    assert (three, total) == (3, 1203)
    assert many <= few + 2  # the rows come in chunks of 500 (one query where cursors are server-side)


def test_the_list_links_to_the_export_of_what_it_shows(client_for, bob, acme):
    text = client_for(bob).get(LIST, {"q": "erp", "environment": "staging"}).content.decode()
    assert f'href="{EXPORT}?q=erp&amp;environment=staging"' in text


def test_a_member_of_another_tenant_cannot_export(client_for, charlie, acme):
    assert client_for(charlie).get(EXPORT).status_code == 404


def test_the_export_never_reads_a_secret(client_for, alice, acme):
    with CaptureQueriesContext(connection) as captured:
        _csv(client_for(alice).get(EXPORT, {"kind": "all"}))
    assert not any(ApiSecret._meta.db_table in query["sql"] for query in captured.captured_queries)
