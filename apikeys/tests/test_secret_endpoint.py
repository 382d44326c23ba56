"""POST /tenants/<code>/api-keys/<key>/secret/: reveal or copy a secret. The contract others
rely on: JSON with `Accept: application/json`, `Cache-Control: no-store` always, an activity
entry, admins and developers only."""

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse

from activity.models import Action, ActivityEntry
from apikeys.services import key_renew

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


def _url(key, code="acme"):
    return reverse("apikeys:secret", kwargs={"code": code, "key_id": key.public_id})


def test_it_returns_the_current_secret_as_json_to_an_admin(client_for, alice, acme_secrets):
    key, plaintext = acme_secrets["emporix"]
    response = client_for(alice).post(_url(key), {"purpose": "copy"}, **JSON)
    assert response.status_code == 200
    assert response.json() == {"secret": plaintext, "client_id": key.client_id}
    assert "no-store" in response["Cache-Control"]


def test_it_returns_the_secret_to_a_developer(client_for, dave, acme_secrets):
    key, plaintext = acme_secrets["storefront"]
    response = client_for(dave).post(_url(key), **JSON)
    assert response.json()["secret"] == plaintext


def test_it_records_a_reveal_by_default_and_a_copy_when_asked_with_no_secret_in_the_log(client_for, dave, acme_secrets):
    key, plaintext = acme_secrets["emporix"]
    client = client_for(dave)
    client.post(_url(key), **JSON)
    client.post(_url(key), {"purpose": "copy"}, **JSON)
    entries = list(ActivityEntry.objects.filter(key=key).order_by("id").values_list("action", flat=True))
    assert entries[-2:] == [Action.SECRET_REVEALED, Action.SECRET_COPIED]
    for entry in ActivityEntry.objects.all():
        assert plaintext not in str(entry.details) and entry.actor_email
    assert ActivityEntry.objects.filter(action=Action.SECRET_REVEALED, actor=dave).exists()


def test_without_javascript_it_renders_the_list_with_that_secret_shown(client_for, alice, acme_secrets):
    key, plaintext = acme_secrets["emporix"]
    _, other = acme_secrets["storefront"]
    response = client_for(alice).post(_url(key), {"purpose": "reveal"}, HTTP_ACCEPT="text/html,*/*;q=0.8")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "no-store" in response["Cache-Control"]
    body = response.content.decode()
    assert body.count(plaintext) == 1 and other not in body


def test_it_returns_an_old_secret_in_its_grace_period_when_asked_for(client_for, alice, acme_secrets):
    key, old = acme_secrets["emporix"]
    key_renew(key=key, grace=timedelta(hours=1))
    old_row = key.secrets.get(expires_at__isnull=False)
    response = client_for(alice).post(_url(key), {"secret": str(old_row.public_id)}, **JSON)
    assert response.json()["secret"] == old


def test_it_404s_for_a_retired_secret_and_for_another_keys_secret(client_for, alice, acme_secrets):
    key, _ = acme_secrets["emporix"]
    other, _ = acme_secrets["storefront"]
    key_renew(key=key)  # the old secret stops now
    retired = key.secrets.get(expires_at__isnull=False)
    client = client_for(alice)
    assert client.post(_url(key), {"secret": str(retired.public_id)}, **JSON).status_code == 404
    current_of_other = other.secrets.get(expires_at__isnull=True)
    assert client.post(_url(key), {"secret": str(current_of_other.public_id)}, **JSON).status_code == 404
    assert client.post(_url(key), {"secret": str(uuid.uuid4())}, **JSON).status_code == 404


def test_it_400s_for_an_unknown_purpose(client_for, alice, acme_secrets):
    key, _ = acme_secrets["emporix"]
    response = client_for(alice).post(_url(key), {"purpose": "print"}, **JSON)
    assert response.status_code == 400
    assert not ActivityEntry.objects.filter(action__startswith="secret.").exists()


# Who may (the statuses): portal/tests/test_permissions.py. What a refusal carries:
@pytest.mark.parametrize("user", ["bob", "charlie"])  # a viewer (403), a non-member (404)
def test_a_refusal_is_no_store_and_holds_no_secret(client_for, acme_secrets, globex, user, request):
    key, plaintext = acme_secrets["emporix"]
    response = client_for(request.getfixturevalue(user)).post(_url(key), **JSON)
    assert response.status_code in (403, 404)
    assert plaintext not in response.content.decode() and "no-store" in response["Cache-Control"]


def test_it_404s_for_other_tenants_key_under_own_code(client_for, charlie, globex, acme_secrets):
    key, _ = acme_secrets["emporix"]
    assert client_for(charlie).post(_url(key, code="globex"), **JSON).status_code == 404
