"""Every state change on the keys page needs the CSRF token."""

import pytest
from django.test import Client
from django.urls import reverse

from activity.models import ActivityEntry
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def strict_client(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    # A recent authentication, through the re-authentication form with its own CSRF token.
    client.get("/accounts/reauthenticate/")
    token = client.cookies["csrftoken"].value
    response = client.post("/accounts/reauthenticate/", {"password": PASSWORD, "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    return client


def _token(client):
    client.get(reverse("apikeys:list", kwargs={"code": "acme"}))
    return client.cookies["csrftoken"].value


def test_reveal_without_a_csrf_token_is_refused(strict_client, acme_secrets):
    key, plaintext = acme_secrets["emporix"]
    url = reverse("apikeys:secret", kwargs={"code": "acme", "key_id": key.public_id})
    response = strict_client.post(url, HTTP_ACCEPT="application/json")
    assert response.status_code == 403 and plaintext not in response.content.decode()
    assert not ActivityEntry.objects.filter(action__startswith="secret.").exists()


def test_reveal_with_the_csrf_token_works(strict_client, acme_secrets):
    key, plaintext = acme_secrets["emporix"]
    url = reverse("apikeys:secret", kwargs={"code": "acme", "key_id": key.public_id})
    token = _token(strict_client)
    response = strict_client.post(url, {"csrfmiddlewaretoken": token}, HTTP_ACCEPT="application/json")
    assert response.json()["secret"] == plaintext
    # The header form that copy.js may use works too.
    response = strict_client.post(url, HTTP_ACCEPT="application/json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200


def test_renew_without_a_csrf_token_is_refused(strict_client, acme_secrets):
    key, _ = acme_secrets["emporix"]
    url = reverse("apikeys:renew", kwargs={"code": "acme", "key_id": key.public_id})
    assert strict_client.post(url, {"grace": "now"}).status_code == 403
    key.refresh_from_db()
    assert key.renewed_at is None
