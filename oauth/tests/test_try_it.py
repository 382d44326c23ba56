import pytest
from django.urls import reverse

from activity.models import Action, ActivityEntry
from oauth.models import AccessToken


def url(key, code="acme"):
    return reverse("oauth:try", kwargs={"code": code, "key_id": key.public_id})


@pytest.mark.parametrize("who", ["alice", "dave"])
def test_admins_and_developers_get_a_masked_token(client_for, request, emporix, who):
    key, secret = emporix
    response = client_for(request.getfixturevalue(who)).post(url(key), HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    result = response.json()
    assert result["status"] == 200
    shown = result["response"]["access_token"]
    assert shown.startswith("akpt_") and shown.endswith("…") and len(shown) == 9
    assert result["response"]["scope"].endswith("tenant=acme")
    assert AccessToken.objects.filter(key=key).count() == 1
    entry = ActivityEntry.objects.get(action=Action.KEY_TRIED)
    assert entry.key == key
    assert entry.details == {"grant": "client_credentials", "status": 200}
    assert "akpt_" not in str(entry.details) and secret not in str(entry.details)
    assert secret.encode() not in response.content


def test_the_storefront_key_runs_the_anonymous_login(client_for, alice, storefront):
    key, _ = storefront
    result = client_for(alice).post(url(key), HTTP_ACCEPT="application/json").json()
    assert result["status"] == 200
    assert result["response"]["sessionId"]
    assert result["response"]["refresh_token"].endswith("…")
    assert ActivityEntry.objects.get(action=Action.KEY_TRIED).details["grant"] == "anonymous_login"


def test_without_json_it_renders_a_page(client_for, alice, emporix):
    key, _ = emporix
    response = client_for(alice).post(url(key))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert b"akpt_" in response.content
    token = AccessToken.objects.get(key=key)
    assert token.digest  # the full token is in no page
    assert b"Try it" in response.content


def test_it_404s_for_another_tenants_key_under_my_tenant_code(client_for, alice, emporix, globex):
    other = globex.apikeys.get(kind="emporix")
    assert client_for(alice).post(url(other, code="acme")).status_code == 404
    assert not AccessToken.objects.exists()


def test_it_needs_a_csrf_token(client, alice, emporix):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    assert browser.post(url(emporix[0])).status_code == 403
