"""Reveals and copies of secrets are limited per user (SECRET_SHOW_LIMIT_PER_USER per
SECRET_SHOW_WINDOW): past the limit, 429 with Retry-After and still `no-store`, nothing shown
and nothing logged; other users are not affected, and the next window frees the user."""

import pytest
from django.urls import reverse

from activity.models import Action, ActivityEntry

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


def _url(key):
    return reverse("apikeys:secret", kwargs={"code": "acme", "key_id": key.public_id})


def test_reveals_past_the_limit_get_429_per_user(
    client, reauthenticated, alice, dave, acme_secrets, settings, monkeypatch
):
    settings.SECRET_SHOW_LIMIT_PER_USER = 3
    settings.SECRET_SHOW_WINDOW = 60
    key, plaintext = acme_secrets["emporix"]
    from apikeys.views import listing

    start = (listing.time.time() // 60) * 60 + 10  # ten seconds into a window: no boundary crossed
    monkeypatch.setattr(listing.time, "time", lambda: start)
    client.force_login(alice)
    reauthenticated(client)
    purposes = ["reveal", "copy", "reveal"]
    assert [client.post(_url(key), {"purpose": p}, **JSON).status_code for p in purposes] == [200, 200, 200]

    refused = client.post(_url(key), {"purpose": "copy"}, **JSON)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "50"
    assert "no-store" in refused["Cache-Control"]
    assert plaintext not in refused.content.decode()
    page = client.post(_url(key), HTTP_ACCEPT="text/html")  # without JavaScript: the list, with why
    assert page.status_code == 429 and "no-store" in page["Cache-Control"]
    assert "Too many secrets shown" in page.content.decode() and plaintext not in page.content.decode()
    shown = (Action.SECRET_REVEALED, Action.SECRET_COPIED)
    assert ActivityEntry.objects.filter(actor=alice, action__in=shown).count() == 3

    # Another user is counted apart.
    client.force_login(dave)
    reauthenticated(client)
    assert client.post(_url(key), **JSON).json()["secret"] == plaintext

    # The next window frees alice.
    later = start + 50
    monkeypatch.setattr(listing.time, "time", lambda: later)
    client.force_login(alice)
    reauthenticated(client)
    assert client.post(_url(key), **JSON).status_code == 200
