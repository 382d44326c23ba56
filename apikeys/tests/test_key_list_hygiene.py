"""The keys page shows each key's hygiene state (disabled, expired, expiring soon, unused),
links every key to its settings page (admins), and says above the list which keys stop
working this week and which are disabled; in a constant number of queries."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apikeys.models import ApiKey, KeyKind
from apikeys.services import key_create, key_disable, key_expiry_set
from scopes.models import Scope

URL = reverse("apikeys:list", kwargs={"code": "acme"})


def _custom(acme, name):
    return key_create(tenant=acme, kind=KeyKind.CUSTOM, name=name, scopes=Scope.objects.filter(name="tax.tax_read"))[0]


def test_states_badges_and_the_attention_line(client_for, alice, acme):
    soon = _custom(acme, "Soon")
    key_expiry_set(key=soon, expires_at=timezone.now() + timedelta(days=3))
    off = _custom(acme, "Off")
    key_disable(key=off)
    old = _custom(acme, "Old")
    ApiKey.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=120))
    text = client_for(alice).get(URL).content.decode()
    assert '<span class="badge warning">Expires soon</span>' in text
    assert '<span class="badge danger">Disabled</span>' in text
    assert '<span class="badge warning">Unused</span>' in text
    assert "1 key stops working this week</strong>" in text
    assert "1 key disabled" in text
    settings_url = reverse("apikeys:settings", kwargs={"code": "acme", "key_id": soon.public_id})
    assert settings_url in text
    assert reverse("apikeys:report_leak", kwargs={"code": "acme"}) in text


def test_viewers_get_no_settings_links(client_for, bob, acme):
    key = _custom(acme, "Some")
    text = client_for(bob).get(URL).content.decode()
    assert reverse("apikeys:settings", kwargs={"code": "acme", "key_id": key.public_id}) not in text
    assert "Report a leaked secret" not in text


def test_the_states_cost_no_query_per_key(client_for, alice, acme):
    client = client_for(alice)
    for number in range(3):
        _custom(acme, f"K{number}")
    client.get(URL + "?view=table")  # the first visit also records the session's visit
    with CaptureQueriesContext(connection) as few:
        client.get(URL + "?view=table")
    for number in range(3, 30):
        key = _custom(acme, f"K{number}")
        if number % 3 == 0:
            key_disable(key=key)
    with CaptureQueriesContext(connection) as many:
        client.get(URL + "?view=table")
    assert len(many) == len(few)


def test_the_row_shows_the_allowlist_expiry_and_token_lifetime(client_for, alice, acme):
    from apikeys.services import key_networks_set, key_token_lifetime_set

    key = _custom(acme, "Limited")
    key_networks_set(key=key, allowed_networks="203.0.113.0/24 2001:db8::/32")
    key_token_lifetime_set(key=key, seconds=600)
    key_expiry_set(key=key, expires_at=timezone.now() + timedelta(days=40))
    client = client_for(alice)
    cards = client.get(URL + "?view=cards").content.decode()
    assert "Only from <code>203.0.113.0/24</code>, <code>2001:db8::/32</code>" in cards
    assert "Tokens live 600 s" in cards and "Expires" in cards
    table = client.get(URL + "?view=table").content.decode()
    assert 'title="Only from 203.0.113.0/24, 2001:db8::/32">IP allowlist</span>' in table
