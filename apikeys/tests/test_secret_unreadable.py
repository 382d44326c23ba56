"""A stored secret that the configured keys cannot decrypt (a key missing or wrong) gets a
clear answer, not a 500: reveal/copy answer 503 with no-store and an activity entry, Try it
says so, and the secret still authenticates (authentication never decrypts)."""

import base64
from urllib.parse import urlencode

import pytest
from django.test import override_settings
from django.urls import reverse

from activity.models import Action, ActivityEntry

pytestmark = pytest.mark.django_db

WRONG = "test1:" + base64.b64encode(b"W" * 32).decode()


def _secret_url(key):
    return reverse("apikeys:secret", kwargs={"code": "acme", "key_id": key.public_id})


@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_reveal_of_an_unreadable_secret_is_a_clear_503(client, reauthenticated, alice, acme_secrets, accept):
    key, plaintext = acme_secrets["emporix"]
    client.force_login(alice)
    reauthenticated(client)
    with override_settings(PORTAL_ENCRYPTION_KEYS=WRONG):
        response = client.post(_secret_url(key), {"purpose": "reveal"}, headers={"accept": accept})
    assert response.status_code == 503
    assert "no-store" in response["Cache-Control"]
    assert plaintext not in response.content.decode()
    assert "cannot be decrypted" in response.content.decode()
    entry = ActivityEntry.objects.get(action=Action.SECRET_UNREADABLE)
    assert entry.key == key and entry.details["encryption_key"] == "test1"
    assert not ActivityEntry.objects.filter(action=Action.SECRET_REVEALED).exists()


def test_try_it_says_the_secret_is_unreadable(client, reauthenticated, alice, acme_secrets):
    key, _ = acme_secrets["emporix"]
    client.force_login(alice)
    reauthenticated(client)
    with override_settings(PORTAL_ENCRYPTION_KEYS=WRONG):
        response = client.post(
            reverse("oauth:try", kwargs={"code": "acme", "key_id": key.public_id}),
            headers={"accept": "application/json"},
        )
    assert response.status_code == 200
    assert response.json()["status"] == 503 and response.json()["response"]["error"] == "secret_unreadable"


def test_the_unreadable_secret_still_authenticates(client, reauthenticated, acme_secrets):
    key, plaintext = acme_secrets["emporix"]
    with override_settings(PORTAL_ENCRYPTION_KEYS=WRONG):
        form = {"grant_type": "client_credentials", "client_id": key.client_id, "client_secret": plaintext}
        response = client.post("/oauth/token", urlencode(form), content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
