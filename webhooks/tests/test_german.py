"""The Webhooks pages in German (issue 23): the list with its worker status and form, an
endpoint's page with its delivery log and the statuses it shows."""

import pytest
from django.urls import reverse

from apikeys.models import KeyKind
from apikeys.services import key_renew
from tenants.tests.test_german import assert_german, german, text
from webhooks.events import BY_CODE
from webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook(acme, acme_secrets):
    """acme's endpoint with one delivery waiting (a key was renewed)."""
    endpoint, _ = endpoint_create(tenant=acme, url="https://hooks.example.com/keys", event_types=list(BY_CODE))
    key_renew(key=acme_secrets[KeyKind.EMPORIX][0])
    return endpoint


def test_the_webhooks_list_is_german(client_for, alice, hook):
    response = german(client_for(alice), reverse("webhooks:list", kwargs={"code": "acme"}))
    assert response.status_code == 200
    assert_german(
        text(response),
        present=[
            "Zustellung",
            "In den letzten",  # no worker runs in the tests: the warning
            "1 Zustellung wartet",
            "Endpunkte",
            "Ereignisse",
            "Schlüssel erstellt, Schlüssel gelöscht",
            "Aktiv",
            "Endpunkt hinzufügen",
            "Endpunkt-URL",
            "Secret angezeigt oder kopiert",
        ],
        absent=[
            "Delivery",
            "delivery waits",
            "Endpoints",
            "Events",
            "Key created",
            "Active",
            "Add an endpoint",
            "Add endpoint",
            "Endpoint URL",
            "Description",
            "Secret revealed or copied",
        ],
    )


def test_an_endpoint_page_is_german(client_for, alice, hook):
    url = reverse("webhooks:detail", kwargs={"code": "acme", "endpoint_id": hook.public_id})
    response = german(client_for(alice), url)
    assert response.status_code == 200
    assert_german(
        text(response),
        present=[
            "Webhook-Endpunkt",
            "← Alle Endpunkte",
            "Signatur-Secret",
            "Anzeigen",
            "Rotieren",
            "Testereignis senden",
            "Einstellungen",
            "Zustellungen",
            "Ausstehend",  # the delivery's status
            "Nächster Versuch",
            "noch keine",
        ],
        absent=[
            "Webhook endpoint",
            "All endpoints",
            "Signing secret",
            "Reveal",
            "Rotate",
            "Send test event",
            "Settings",
            "Deliveries",
            "Pending",
            "Next attempt",
            "none yet",
            "Save",
        ],
    )
