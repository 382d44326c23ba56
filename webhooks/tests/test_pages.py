"""The Webhooks pages: adding an endpoint (URL rules), its secret shown once, revealed on
request and rotated, the test event button, the delivery log, and another tenant's endpoints."""

from uuid import uuid4

import pytest
from django.urls import reverse

from apikeys.models import KeyKind
from apikeys.services import key_renew
from webhooks.delivery import deliver_due
from webhooks.forms import NOT_PUBLIC
from webhooks.models import Attempt, Delivery, Endpoint
from webhooks.services import endpoint_create, endpoint_secret

pytestmark = pytest.mark.django_db


def url(name: str, endpoint: Endpoint | None = None, code: str = "acme") -> str:
    kwargs = {"code": code} | ({"endpoint_id": endpoint.public_id} if endpoint else {})
    return reverse(f"webhooks:{name}", kwargs=kwargs)


@pytest.fixture
def admin(client_for, alice):
    return client_for(alice)


def test_the_tenant_navigation_links_the_page_for_admins_only(admin, client_for, dave, acme):
    assert url("list").encode() in admin.get(reverse("apikeys:list", kwargs={"code": "acme"})).content
    developer = client_for(dave)
    assert url("list").encode() not in developer.get(reverse("apikeys:list", kwargs={"code": "acme"})).content


def test_adding_an_endpoint_shows_its_secret_once(admin, acme):
    response = admin.post(
        url("create"), {"url": "https://hooks.example.com/keys", "event_types": ["key.created", "key.renewed"]}
    )
    endpoint = Endpoint.objects.get(tenant=acme)
    assert response.status_code == 302 and response.url == url("detail", endpoint)
    assert endpoint.event_types == ["key.created", "key.renewed"]
    secret = endpoint_secret(endpoint)
    assert secret.startswith("whsec_") and secret.encode() not in bytes(endpoint.secret_ciphertext)
    page = admin.get(response.url)
    assert secret in page.content.decode() and "no-store" in page["Cache-Control"]
    again = admin.get(response.url)
    assert secret not in again.content.decode()


@pytest.mark.parametrize(
    ("value", "loopback_allowed", "error"),
    [
        ("http://hooks.example.com/keys", False, "The URL must start with https://."),
        ("http://hooks.example.com/keys", True, "The URL must start with https://."),
        ("http://127.0.0.1:8000/keys", False, NOT_PUBLIC),
        ("ftp://hooks.example.com/keys", True, "The URL must start with https://."),
        ("https://user:pw@hooks.example.com/keys", False, "Put no user name or password in the URL."),
        ("https://hooks.example.com/keys#part", False, "A URL with a #fragment cannot be delivered to."),
        ("not a url", False, "Enter a valid URL."),
        ("", False, "This field is required."),
    ],
)
def test_a_bad_url_is_a_form_error_and_nothing_is_added(admin, acme, settings, value, loopback_allowed, error):
    settings.WEBHOOKS_ALLOW_HTTP_LOOPBACK = loopback_allowed
    response = admin.post(url("create"), {"url": value, "event_types": ["key.created"]})
    assert response.status_code == 400
    assert error in response.content.decode().replace("&#x27;", "'")
    assert not Endpoint.objects.exists()


@pytest.mark.parametrize("value", ["http://127.0.0.1:8000/keys", "http://localhost/k", "http://[::1]:9000/k"])
def test_loopback_http_is_allowed_only_with_the_setting(admin, acme, settings, value):
    settings.WEBHOOKS_ALLOW_HTTP_LOOPBACK = True
    assert admin.post(url("create"), {"url": value, "event_types": ["key.created"]}).status_code == 302


def test_events_must_be_chosen(admin, acme):
    response = admin.post(url("create"), {"url": "https://hooks.example.com/keys"})
    assert response.status_code == 400 and "Choose at least one event." in response.content.decode()


def test_reveal_shows_the_secret_uncached_and_remembers_when(admin, endpoint, receiver):
    response = admin.post(url("secret", endpoint))
    assert response.status_code == 200 and receiver.secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    endpoint.refresh_from_db()
    assert endpoint.secret_revealed_at is not None
    assert receiver.secret not in admin.get(url("detail", endpoint)).content.decode()


def test_rotate_makes_a_new_secret_shown_once_that_signs_from_then_on(admin, endpoint, receiver, acme_secrets):
    old = receiver.secret
    response = admin.post(url("rotate", endpoint))
    new = endpoint_secret(Endpoint.objects.get(pk=endpoint.pk))
    assert new != old and new in admin.get(response.url).content.decode()
    receiver.secret = new
    key_renew(key=acme_secrets[KeyKind.EMPORIX][0])
    deliver_due()
    assert receiver.received[-1].verified


def test_the_test_event_button_delivers_at_once_and_says_so(admin, endpoint, receiver):
    response = admin.post(url("test", endpoint), follow=True)
    (got,) = receiver.received
    assert got.verified and got.payload["type"] == "webhook.test" and got.payload["key"] is None
    assert got.payload["actor"] == {"email": "alice@example.com"}
    assert "Test event delivered: HTTP 200" in response.content.decode()
    assert deliver_due() == 0  # the worker has nothing left to send


def test_a_failed_test_event_is_reported_and_left_to_the_worker(admin, endpoint, receiver):
    receiver.answer(500)
    response = admin.post(url("test", endpoint), follow=True)
    assert "Test event not delivered: HTTP 500. It will be retried." in response.content.decode()
    assert Delivery.objects.get().status == "pending"


def test_the_delivery_log_shows_every_attempt(
    admin, endpoint, receiver, acme_secrets, settings, django_assert_max_num_queries
):
    settings.WEBHOOKS_BACKOFF = [0]
    key = acme_secrets[KeyKind.EMPORIX][0]
    for _ in range(30):
        key_renew(key=key)
    receiver.answer(*[500] * 30)
    deliver_due()  # 30 failed attempts, then (backoff 0) 30 successful ones
    assert Attempt.objects.count() == 60
    # 12, and one for the delivery workers' heartbeats (a warning when none runs)
    with django_assert_max_num_queries(13):
        page = admin.get(url("detail", endpoint)).content.decode()
    assert page.count("HTTP 500") == 30 and page.count("HTTP 200") == 30
    assert receiver.secret not in page


def test_editing_changes_events_and_can_turn_it_off(admin, endpoint, acme_secrets):
    response = admin.post(url("edit", endpoint), {"url": endpoint.url, "event_types": ["key.deleted"]})
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.event_types, endpoint.is_active) == (["key.deleted"], False)
    key_renew(key=acme_secrets[KeyKind.EMPORIX][0])
    assert not Delivery.objects.exists()


def test_an_invalid_edit_is_a_400_and_changes_nothing(admin, endpoint):
    response = admin.post(
        url("edit", endpoint), {"url": "http://example.com/", "event_types": ["key.deleted"], "is_active": "on"}
    )
    assert response.status_code == 400
    assert Endpoint.objects.get(pk=endpoint.pk).url == endpoint.url


def test_delete_removes_the_endpoint(admin, endpoint):
    assert admin.get(url("delete", endpoint)).status_code == 200
    assert admin.post(url("delete", endpoint)).status_code == 302
    assert not Endpoint.objects.exists()


@pytest.mark.parametrize("name", ["detail", "edit", "secret", "rotate", "test", "delete"])
def test_another_tenants_endpoint_404s_under_ones_own_code(client_for, charlie, globex, endpoint, name):
    client = client_for(charlie)
    method = client.get if name in ("detail", "delete") else client.post
    assert method(url(name, endpoint, code="globex")).status_code == 404  # under acme: the permission table
    assert endpoint_secret(Endpoint.objects.get(pk=endpoint.pk)) == endpoint_secret(endpoint)


def test_an_unknown_endpoint_404s(admin, acme):
    assert admin.get(reverse("webhooks:detail", kwargs={"code": "acme", "endpoint_id": uuid4()})).status_code == 404


def test_the_list_shows_endpoints_and_failures(admin, acme):
    _ok, _ = endpoint_create(tenant=acme, url="https://a.example.com/h", event_types=["key.created"])
    failing, _ = endpoint_create(tenant=acme, url="https://b.example.com/h", event_types=["key.deleted"])
    Endpoint.objects.filter(pk=failing.pk).update(consecutive_failures=3)
    page = admin.get(url("list")).content.decode()
    assert "https://a.example.com/h" in page and "Key created" in page
    assert "Failing (3 in a row)" in page


def test_a_test_event_to_an_endpoint_that_is_off_says_so_without_promising_a_retry(admin, endpoint, receiver):
    admin.post(url("edit", endpoint), {"url": endpoint.url, "event_types": ["key.created"]})  # unticked: off
    response = admin.post(url("test", endpoint), follow=True)
    assert "Test event not delivered: endpoint turned off." in response.content.decode()
    assert "retried" not in response.content.decode() and receiver.received == []
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0  # off is not failing: no failure notice either
