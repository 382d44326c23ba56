"""A custom key's access-token format: chosen in the create and edit form, recorded in the
activity log, and shown in the key's row (the built-in keys follow the deployment)."""

import pytest
from django.urls import reverse

from activity.models import Action, ActivityEntry
from apikeys.models import ApiKey, KeyKind, TokenFormat

pytestmark = pytest.mark.django_db
CREATE_URL = reverse("apikeys:create", kwargs={"code": "acme"})
LIST_URL = reverse("apikeys:list", kwargs={"code": "acme"})


def create(client, **extra):
    return client.post(CREATE_URL, {"name": "Edge", "scopes": ["tax.tax_read"], **extra})


def row_of(body: str, key: ApiKey) -> str:
    start = body.index(f'id="key-{key.public_id}"')
    return body[start : body.index("</article>", start)]


def test_the_form_offers_the_three_choices(client_for, alice, acme):
    body = client_for(alice).get(CREATE_URL).content.decode()
    assert 'name="token_format"' in body
    for value, label in TokenFormat.choices:
        assert f'<option value="{value}"' in body and str(label) in body


def test_a_key_created_as_jwt_says_so_in_its_row(client_for, alice, acme):
    client = client_for(alice)
    assert create(client, token_format="jwt").status_code == 302
    key = ApiKey.objects.get(tenant=acme, kind=KeyKind.CUSTOM)
    assert key.token_format == TokenFormat.JWT
    assert ActivityEntry.objects.get(action=Action.KEY_CREATED, key=key).details["token_format"] == "jwt"
    row = row_of(client.get(LIST_URL).content.decode(), key)
    assert "Access tokens" in row and "JWT (RFC 9068)" in row


def test_without_a_choice_the_row_names_the_deployment_default(client_for, alice, acme, settings):
    client = client_for(alice)
    create(client)
    key = ApiKey.objects.get(tenant=acme, kind=KeyKind.CUSTOM)
    assert key.token_format == TokenFormat.DEFAULT
    assert "Deployment default (Opaque)" in row_of(client.get(LIST_URL).content.decode(), key)
    settings.ACCESS_TOKEN_FORMAT = "jwt"
    assert "Deployment default (JWT (RFC 9068))" in row_of(client.get(LIST_URL).content.decode(), key)


def test_editing_switches_the_format_and_records_it(client_for, alice, acme):
    client = client_for(alice)
    create(client)
    key = ApiKey.objects.get(tenant=acme, kind=KeyKind.CUSTOM)
    url = reverse("apikeys:edit", kwargs={"code": "acme", "key_id": key.public_id})
    assert "selected>Deployment default" in client.get(url).content.decode()
    response = client.post(url, {"name": "Edge", "scopes": ["tax.tax_read"], "token_format": "jwt"})
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.token_format == TokenFormat.JWT
    entry = ActivityEntry.objects.get(action=Action.KEY_CHANGED, key=key)
    assert entry.details == {"token_format": {"from": "", "to": "jwt"}}
    assert '<option value="jwt" selected>' in client.get(url).content.decode()


def test_an_unknown_format_is_a_field_error(client_for, alice, acme):
    response = create(client_for(alice), token_format="paseto")
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not ApiKey.objects.filter(kind=KeyKind.CUSTOM).exists()


def test_builtin_rows_say_nothing_about_the_format(client_for, alice, acme):
    body = client_for(alice).get(LIST_URL).content.decode()
    assert "Access tokens" not in body
