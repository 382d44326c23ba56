"""The Manage API Keys list: groups, rows, what each role sees, and a fixed query count."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apikeys.auth import builtin_scope_names
from apikeys.display import SECRET_MASK
from apikeys.models import ApiKey, ApiSecret
from apikeys.services import key_create
from scopes.models import Scope

pytestmark = pytest.mark.django_db


def _list(client, query=""):
    return client.get(reverse("apikeys:list", kwargs={"code": "acme"}) + query)


def _custom(tenant, name, count=3):
    return key_create(tenant=tenant, kind="custom", name=name, scopes=Scope.objects.offered()[:count])[0]


def test_it_groups_keys_by_kind(client_for, alice, acme_secrets):
    body = _list(client_for(alice)).content.decode()
    assert body.index("Emporix API") < body.index("Storefront API") < body.index("Custom API")
    for key, _ in acme_secrets.values():
        assert f'id="key-{key.public_id}"' in body and key.client_id in body


def test_the_create_button_keeps_emporixs_labels_and_says_what_it_makes(client_for, alice, acme):
    """Emporix's words: "Create scopes" while there is no custom key, "Add custom API" after."""
    create_url = reverse("apikeys:create", kwargs={"code": "acme"})
    for custom_keys, label in ((0, "Create scopes"), (1, "Add custom API")):
        if custom_keys:
            _custom(acme, "Orders reader")
        body = _list(client_for(alice)).content.decode()
        assert (
            f'<a class="button primary create-key" href="{create_url}">'
            f'{label}<span class="button-sub">New custom API key</span></a>'
        ) in body
        other = "Add custom API" if label == "Create scopes" else "Create scopes"
        assert other not in body


def test_it_offers_no_create_link_to_developers_or_viewers(client_for, dave, bob, acme):
    create_url = reverse("apikeys:create", kwargs={"code": "acme"})
    for user in (dave, bob):
        assert create_url not in _list(client_for(user)).content.decode()


def test_a_handful_of_custom_keys_are_cards_and_more_are_a_table(client_for, alice, acme):
    keys = [_custom(acme, f"Key {n:02}", count=1) for n in range(5)]
    body = _list(client_for(alice)).content.decode()
    assert f'class="key card" id="key-{keys[0].public_id}"' in body and "key-table" not in body
    _custom(acme, "Key 05", count=1)
    body = _list(client_for(alice)).content.decode()
    assert '<table class="table key-table">' in body
    assert f'<tr id="key-{keys[0].public_id}">' in body
    # The built-in keys stay cards.
    assert body.count('class="key card"') == 2
    # Either layout on request, through a plain link.
    assert 'href="?view=cards#custom-keys"' in body
    cards = _list(client_for(alice), "?view=cards").content.decode()
    assert cards.count('class="key card"') == 8 and "key-table" not in cards


def test_a_just_created_key_is_highlighted_above_the_table_whatever_the_page(client_for, alice, acme):
    keys = [_custom(acme, f"Key {n:02}", count=1) for n in range(40)]
    body = _list(client_for(alice)).content.decode()
    assert f'id="key-{keys[35].public_id}"' not in body  # on page 2
    body = _list(client_for(alice), f"?created={keys[35].public_id}").content.decode()
    assert body.count("is-new") == 1
    assert re.search(rf'<tbody class="pinned">\s*<tr id="key-{keys[35].public_id}" class="is-new">', body)
    assert body.count(f'id="key-{keys[35].public_id}"') == 1  # not twice


def test_revealing_a_custom_key_without_javascript_shows_its_row(client_for, alice, acme):
    keys = [_custom(acme, f"Key {n:02}", count=1) for n in range(40)]
    url = reverse("apikeys:secret", kwargs={"code": "acme", "key_id": keys[33].public_id})
    body = client_for(alice).post(url, {"purpose": "reveal"}).content.decode()
    assert body.count('class="secret is-shown"') == 1
    row = body[body.index(f'<tr id="key-{keys[33].public_id}"') :]
    assert row.index('class="secret is-shown"') < row.index("</tr>")


def test_a_malformed_created_parameter_is_ignored(client_for, alice, acme):
    assert _list(client_for(alice), "?created=nope").status_code == 200


def test_a_viewer_sees_masked_secrets_and_no_secret_controls(client_for, bob, acme_secrets):
    body = _list(client_for(bob)).content.decode()
    key, _ = acme_secrets["emporix"]
    assert "••••" in body
    assert f'aria-label="Secret, hidden">{SECRET_MASK}</code>' in body
    assert reverse("apikeys:secret", kwargs={"code": "acme", "key_id": key.public_id}) not in body
    assert reverse("apikeys:renew", kwargs={"code": "acme", "key_id": key.public_id}) not in body
    assert "Get started" in body and key.client_id in body


def test_a_developer_gets_reveal_and_copy_but_no_renew(client_for, dave, acme_secrets):
    body = _list(client_for(dave)).content.decode()
    key, _ = acme_secrets["emporix"]
    assert reverse("apikeys:secret", kwargs={"code": "acme", "key_id": key.public_id}) in body
    assert 'aria-label="Show secret of Emporix API"' in body and 'aria-label="Copy secret of Emporix API"' in body
    assert reverse("apikeys:renew", kwargs={"code": "acme", "key_id": key.public_id}) not in body


def test_an_admin_gets_renew_edit_and_delete_for_custom_keys(client_for, alice, acme):
    custom = _custom(acme, "Orders reader")
    body = _list(client_for(alice)).content.decode()
    for name in ("renew", "edit", "delete", "get_started"):
        assert reverse(f"apikeys:{name}", kwargs={"code": "acme", "key_id": custom.public_id}) in body
    builtin = ApiKey.objects.get(tenant=acme, kind="emporix")
    assert reverse("apikeys:edit", kwargs={"code": "acme", "key_id": builtin.public_id}) not in body


def test_it_shows_scope_counts_with_the_full_list(client_for, alice, acme):
    _custom(acme, "Three scopes", count=3)
    body = _list(client_for(alice)).content.decode()
    offered = Scope.objects.offered()
    assert f"{len(builtin_scope_names('emporix'))} scopes" in body  # all offered but the Portal API's
    assert f"{offered.filter(storefront=True).count()} scopes" in body
    assert "3 scopes" in body
    for scope in offered[:3]:
        assert f"<code>{scope.name}</code>" in body


def test_a_table_row_lists_a_dozen_scopes_and_links_to_its_card_for_the_rest(client_for, alice, acme):
    for n in range(6):
        _custom(acme, f"Key {n}", count=1)
    wide = _custom(acme, "Wide", count=40)
    body = _list(client_for(alice)).content.decode()
    row = body[body.index(f'<tr id="key-{wide.public_id}"') :]
    row = row[: row.index("</tr>")]
    assert "40 scopes" in row and row.count("<li><code>") == 12
    assert f'and 28 more: <a href="?view=cards&amp;q={wide.client_id}">see all in the card layout</a>' in row


def test_it_escapes_key_names(client_for, alice, acme):
    _custom(acme, "<b>bold</b>")
    body = _list(client_for(alice)).content.decode()
    assert "<b>bold</b>" not in body and "&lt;b&gt;bold&lt;/b&gt;" in body


def test_the_activity_tab_is_for_admins_only(client_for, alice, dave, acme):
    url = reverse("activity:list", kwargs={"code": "acme"})
    assert url in _list(client_for(alice)).content.decode()
    assert url not in _list(client_for(dave)).content.decode()


def test_it_loads_every_script_from_a_file_with_defer(client_for, alice, acme):
    body = _list(client_for(alice)).content.decode()
    for name in ("copy", "reveal", "dialog", "key-list", "get-started"):
        assert f'src="/static/js/{name}.js" defer' in body
    assert "<script>" not in body and "onclick" not in body and "style=" not in body


def test_the_query_count_does_not_grow_with_keys_or_scopes(client_for, alice, acme, django_assert_num_queries):
    client = client_for(alice)
    _custom(acme, "First", count=1)
    _list(client)  # settle the session and the remembered tenant
    with CaptureQueriesContext(connection) as few:
        _list(client, "?view=table")
    scopes = list(Scope.objects.offered()[:40])
    for n in range(200):
        key = ApiKey.objects.create(tenant=acme, kind="custom", name=f"Custom {n:03}", client_id=f"{n:032d}")
        key.scopes.set(scopes[n % 30 : n % 30 + 5])
        # The list never decrypts, so placeholder ciphertexts do; one old secret in a grace period.
        ApiSecret.objects.create(
            key=key, ciphertext=b"-", encryption_key_id="test1", digest=bytes(32 - 1) + bytes([n % 256])
        )
        ApiSecret.objects.create(
            key=key,
            ciphertext=b"-",
            encryption_key_id="test1",
            digest=bytes(32),
            expires_at=timezone.now() + timedelta(hours=1),
        )
    with django_assert_num_queries(len(few.captured_queries)):
        response = _list(client, "?view=table")
    body = response.content.decode()
    assert body.count("<tr id=") == 20 and body.count("Old secret works until") == 20
    with django_assert_num_queries(len(few.captured_queries)):
        body = _list(client, "?view=cards&page=3").content.decode()
    assert body.count('class="key card') == 2 + 10 and body.count("Old secret, stops working ") == 10
