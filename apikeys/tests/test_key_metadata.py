"""Key metadata (issue 20): a description, an owner (a member), an environment and free labels,
on create, edit and settings; searchable and filterable on the keys page; shown in its rows;
recorded in the activity log; an owner who leaves the tenant is cleared."""

import pytest
from django.urls import reverse

from activity.models import Action, ActivityEntry
from apikeys.forms import CustomKeyForm, labels_parse
from apikeys.models import ApiKey, KeyKind, labels_store
from apikeys.services import KeyMetadata, key_create, key_metadata_set
from scopes.models import Scope
from tenants.models import Membership
from tenants.services import member_remove

pytestmark = pytest.mark.django_db
LIST = reverse("apikeys:list", kwargs={"code": "acme"})
CREATE = reverse("apikeys:create", kwargs={"code": "acme"})


def _scopes():
    return Scope.objects.filter(name="tax.tax_read")


def _custom(acme, name="Orders", **metadata):
    key, _ = key_create(tenant=acme, kind=KeyKind.CUSTOM, name=name, scopes=_scopes(), metadata=KeyMetadata(**metadata))
    return key


def _settings(key):
    return reverse("apikeys:settings", kwargs={"code": key.tenant.code, "key_id": key.public_id})


# --- Model and form rules --------------------------------------------------------------------


def test_labels_are_stored_between_spaces_sorted_once():
    assert labels_store(["erp", "billing", "erp"]) == " billing erp "
    assert labels_store([]) == ""


def test_labels_are_parsed_from_commas_or_spaces_lowercased():
    assert labels_parse("ERP, team-shop  erp,,") == ("erp", "team-shop")
    for bad in ("no_underscore", "-leading", "x" * 33, "a b c d e f g h i j k"):
        with pytest.raises(Exception):
            labels_parse(bad)


def test_the_key_form_checks_each_metadata_field(acme, charlie, alice):
    form = CustomKeyForm(
        data={
            "name": "Orders",
            "scopes": ["tax.tax_read"],
            "description": "x" * 501,
            "owner": str(charlie.pk),  # a user of another tenant
            "environment": "prod",
            "labels": "Bad_Label",
        },
        tenant=acme,
    )
    assert not form.is_valid()
    assert set(form.errors) == {"description", "owner", "environment", "labels"}
    assert form.errors["owner"] == ["Choose a member of this tenant."]
    good = CustomKeyForm(
        data={
            "name": "Orders",
            "scopes": ["tax.tax_read"],
            "description": "ERP sync",
            "owner": str(alice.pk),
            "environment": "staging",
            "labels": "erp, Sync",
        },
        tenant=acme,
    )
    assert good.is_valid(), good.errors
    assert good.metadata() == KeyMetadata("ERP sync", alice, "staging", ("erp", "sync"))


def test_the_service_refuses_an_owner_who_is_not_a_member(acme, charlie):
    key = _custom(acme)
    with pytest.raises(ValueError, match="member"):
        key_metadata_set(key=key, metadata=KeyMetadata(owner=charlie))
    key.refresh_from_db()
    assert key.owner_id is None


# --- Create, edit, settings ------------------------------------------------------------------


def test_a_key_is_created_with_its_metadata_recorded(client_for, alice, acme):
    response = client_for(alice).post(
        CREATE,
        {
            "name": "ERP orders",
            "scopes": ["tax.tax_read"],
            "description": "Nightly order sync from the ERP",
            "owner": str(alice.pk),
            "environment": "production",
            "labels": "erp, nightly",
        },
    )
    assert response.status_code == 302
    key = ApiKey.objects.get(tenant=acme, name="ERP orders")
    assert (key.description, key.owner, key.environment, key.label_list) == (
        "Nightly order sync from the ERP",
        alice,
        "production",
        ["erp", "nightly"],
    )
    entry = ActivityEntry.objects.get(key=key, action=Action.KEY_CREATED)
    assert entry.details["owner"] == "alice@example.com" and entry.details["labels"] == ["erp", "nightly"]


def test_the_create_form_offers_the_members_and_keeps_what_was_typed(client_for, alice, acme, charlie):
    client = client_for(alice)
    text = client.get(CREATE).content.decode()
    assert "What it is for" in text
    assert "dave@example.com" in text and "bob@example.com" in text and "charlie@example.com" not in text
    response = client.post(
        CREATE, {"name": "", "scopes": ["tax.tax_read"], "description": "Kept <b>here</b>", "labels": "erp"}
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "Kept &lt;b&gt;here&lt;/b&gt;" in text and 'value="erp"' in text


def test_editing_a_key_changes_its_metadata_and_records_each_change(client_for, alice, dave, acme):
    key = _custom(acme, description="Old", environment="staging", labels=("erp",))
    edit = reverse("apikeys:edit", kwargs={"code": "acme", "key_id": key.public_id})
    client = client_for(alice)
    assert "Old" in client.get(edit).content.decode()
    response = client.post(
        edit,
        {
            "name": "Orders",
            "scopes": ["tax.tax_read"],
            "description": "New",
            "owner": str(dave.pk),
            "environment": "production",
            "labels": "erp",
        },
    )
    assert response.status_code == 302
    entry = ActivityEntry.objects.filter(key=key, action=Action.KEY_CHANGED).latest("id")
    assert entry.details == {
        "description": {"from": "Old", "to": "New"},
        "owner": {"from": None, "to": "dave@example.com"},
        "environment": {"from": "staging", "to": "production"},
    }


def test_the_settings_page_sets_metadata_of_a_built_in_key(client_for, alice, bob, acme):
    key = ApiKey.objects.get(tenant=acme, kind=KeyKind.EMPORIX)
    client = client_for(alice)
    assert "What it is for" in client.get(_settings(key)).content.decode()
    response = client.post(
        _settings(key),
        {"part": "metadata", "description": "Backend", "owner": str(bob.pk), "environment": "", "labels": "core"},
    )
    assert response.status_code == 302
    key.refresh_from_db()
    assert (key.description, key.owner, key.label_list) == ("Backend", bob, ["core"])
    assert key.allowed_networks == ""  # the limits form was not touched
    bad = client.post(_settings(key), {"part": "metadata", "labels": "no way!"})
    assert bad.status_code == 400 and "is not a label" in bad.content.decode()


def test_only_admins_change_metadata(client_for, dave, acme):
    key = _custom(acme)
    response = client_for(dave).post(_settings(key), {"part": "metadata", "description": "mine"})
    assert response.status_code == 403
    key.refresh_from_db()
    assert key.description == ""


# --- An owner who leaves ---------------------------------------------------------------------


def test_an_owner_who_leaves_the_tenant_is_cleared_with_an_activity_entry(acme, alice, dave):
    key = _custom(acme, owner=dave)
    other = _custom(acme, name="Other", owner=alice)
    member_remove(membership=Membership.objects.get(tenant=acme, user=dave))
    key.refresh_from_db()
    other.refresh_from_db()
    assert key.owner_id is None and other.owner == alice
    entry = ActivityEntry.objects.get(key=key, action=Action.KEY_CHANGED)
    assert entry.details["owner"] == {"from": "dave@example.com", "to": None}


# --- Search, filters, rows -------------------------------------------------------------------


@pytest.fixture
def labelled(acme, alice, dave):
    return {
        "erp": _custom(acme, "Alpha", description="Nightly ERP order sync", environment="production", owner=alice),
        "shop": _custom(acme, "Beta", environment="staging", labels=("storefront", "team-shop"), owner=dave),
        "plain": _custom(acme, "Gamma"),
    }


def _names(client, query):
    response = client.get(LIST, query)
    assert response.status_code == 200
    text = response.content.decode()
    custom = ApiKey.objects.filter(tenant__code="acme", kind=KeyKind.CUSTOM)
    return {key.name for key in custom if f'id="key-{key.public_id}"' in text}


def test_the_search_finds_description_and_labels(client_for, alice, labelled):
    client = client_for(alice)
    assert _names(client, {"q": "order sync"}) == {"Alpha"}
    assert _names(client, {"q": "team-sh"}) == {"Beta"}


def test_the_list_filters_by_environment_label_and_owner(client_for, alice, dave, labelled):
    client = client_for(alice)
    assert _names(client, {"environment": "production"}) == {"Alpha"}
    assert _names(client, {"environment": "none"}) == {"Gamma"}
    assert _names(client, {"label": "storefront"}) == {"Beta"}
    assert _names(client, {"label": "store"}) == set()  # a whole label, not part of one
    assert _names(client, {"owner": str(dave.pk)}) == {"Beta"}
    assert _names(client, {"owner": "none"}) == {"Gamma"}


def test_bad_filter_values_are_ignored_and_named(client_for, alice, labelled):
    text = client_for(alice).get(LIST, {"environment": "prod", "label": "Bad!", "owner": "999999"}).content.decode()
    assert "Environment ignored" in text and "Label ignored" in text and "Owner ignored" in text
    assert "Alpha" in text and "Gamma" in text


def test_rows_show_environment_labels_owner_and_description(client_for, alice, labelled):
    client = client_for(alice)
    for view in ("table", "cards"):
        text = client.get(LIST, {"view": view}).content.decode()
        assert 'class="badge env-production">Production<' in text, view
        assert '<span class="label-tag">team-shop</span>' in text, view
        assert "dave@example.com" in text and "Nightly ERP order sync" in text, view


def test_the_activity_page_says_each_change_in_words(client_for, alice, dave, acme):
    key = _custom(acme, description="Old")
    key_metadata_set(key=key, metadata=KeyMetadata(description="New", owner=dave, labels=("erp", "eu")))
    text = client_for(alice).get(reverse("activity:list", kwargs={"code": "acme"})).content.decode()
    assert "Description: “Old” → “New”" in text
    assert "Owner: none → “dave@example.com”" in text
    assert "Labels: none → erp, eu" in text
