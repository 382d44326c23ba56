"""The re-authentication page names the webhook action it protects: the locked forms of the
Webhooks page and of an endpoint's page link to it, and a refused POST is worded from itself."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def heading(response) -> str:
    return re.search(r"<h1[^>]*>(.*?)</h1>", response.content.decode(), re.S).group(1).strip()


def test_the_locked_forms_and_a_refused_rotation_are_named(client, alice, endpoint):
    client.force_login(alice)  # no recent authentication: the forms are locked
    listing = client.get(reverse("webhooks:list", kwargs={"code": "acme"}))
    assert (
        heading(client.get(listing.context["reauth_url"])) == "Confirm it is you to add a webhook endpoint to Acme Corp"
    )
    kwargs = {"code": "acme", "endpoint_id": endpoint.public_id}
    detail = client.get(reverse("webhooks:detail", kwargs=kwargs))
    assert (
        heading(client.get(detail.context["reauth_url"]))
        == f"Confirm it is you to change the webhook endpoint {endpoint.url}"
    )
    refused = client.post(reverse("webhooks:rotate", kwargs=kwargs))
    assert refused.status_code == 302
    assert heading(client.get(refused.url)) == f"Confirm it is you to rotate the signing secret of {endpoint.url}"


def test_another_tenants_endpoint_is_not_named(client, charlie, globex, endpoint):
    client.force_login(charlie)
    page = reverse("webhooks:detail", kwargs={"code": "acme", "endpoint_id": endpoint.public_id})
    response = client.get(reverse("account_reauthenticate"), {"next": page})
    assert heading(response) == "Confirm it is you to continue" and endpoint.url not in response.content.decode()


def test_in_german_the_action_is_a_clause_with_zu(client, alice, endpoint):
    alice.language = "de"
    alice.save(update_fields=["language"])
    client.force_login(alice)
    listing = client.get(reverse("webhooks:list", kwargs={"code": "acme"}))
    assert (
        heading(client.get(listing.context["reauth_url"]))
        == "Bestätigen Sie, dass Sie es sind, um einen Webhook-Endpunkt zu Acme Corp hinzuzufügen"
    )
    refused = client.post(reverse("webhooks:rotate", kwargs={"code": "acme", "endpoint_id": endpoint.public_id}))
    assert (
        heading(client.get(refused.url))
        == f"Bestätigen Sie, dass Sie es sind, um das Signatur-Secret von {endpoint.url} zu rotieren"
    )
