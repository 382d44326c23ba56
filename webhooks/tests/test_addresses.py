"""Deliveries go to public addresses only (webhooks/addresses.py): a literal private address is
a form error, and a name that resolves to one is refused at delivery, without a connection."""

import pytest
from django.urls import reverse

from webhooks.delivery import deliver_due
from webhooks.forms import NOT_PUBLIC
from webhooks.models import Attempt, Endpoint
from webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "value",
    [
        "https://10.0.0.5/hook",
        "https://192.168.1.1/hook",
        "https://169.254.169.254/latest/meta-data/",  # a cloud's metadata service
        "https://[fd00::1]/hook",
        "https://[::ffff:10.0.0.5]/hook",
        "https://127.0.0.1/hook",
        "https://0.0.0.0/hook",
    ],
)
def test_a_private_literal_address_is_a_form_error(client_for, alice, acme, value):
    response = client_for(alice).post(
        reverse("webhooks:create", kwargs={"code": "acme"}), {"url": value, "event_types": ["key.created"]}
    )
    assert response.status_code == 400 and NOT_PUBLIC in response.content.decode()
    assert not Endpoint.objects.exists()


def test_private_networks_can_be_allowed_by_the_operator(client_for, alice, acme, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    response = client_for(alice).post(
        reverse("webhooks:create", kwargs={"code": "acme"}),
        {"url": "https://10.0.0.5/h", "event_types": ["key.created"]},
    )
    assert response.status_code == 302


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "api.localhost"])
def test_a_host_that_is_loopback_is_refused_at_delivery_without_connecting(receiver, acme, settings, host):
    settings.WEBHOOKS_ALLOW_HTTP_LOOPBACK = False
    port = receiver.url.split(":")[2].split("/")[0]
    endpoint, receiver.secret = endpoint_create(
        tenant=acme, url=f"https://{host}:{port}/hooks", event_types=["webhook.test"]
    )
    from webhooks.outbox import endpoint_test_event

    endpoint_test_event(endpoint=endpoint)
    deliver_due()
    assert Attempt.objects.get().error == "address not allowed (not a public address)"
    assert receiver.received == []
