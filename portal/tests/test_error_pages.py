"""Every error page keeps the portal's look (templates/_error.html) with the right status and
never shows debug text: 400, 403, the CSRF failure (our own view, even with DEBUG on), 404,
429, 500 and 503."""

import pytest
from django.contrib.auth.decorators import login_not_required
from django.test import Client
from django.urls import include, path, reverse
from django.utils import timezone

from apikeys.models import KeyKind
from kernel.outages import unavailable_page

pytestmark = pytest.mark.django_db

STYLED = "/static/css/portal.css"
DEBUG_TEXT = ["Traceback", "DEBUG", "Django", "CSRF verification failed", "reason", "Request Method"]


@login_not_required
def boom(request):
    raise RuntimeError("a secret-looking internal detail")


# This module is also the URLconf of the 500 test: the portal's URLs plus one that fails.
urlpatterns = [path("boom/", boom), path("", include("portal.urls"))]
handler500 = "kernel.outages.server_error"


def assert_styled(response, status: int, heading: str) -> str:
    body = response.content.decode()
    assert response.status_code == status
    assert STYLED in body and f"Error {status}" in body and heading in body, body[:500]
    assert not [text for text in DEBUG_TEXT if text in body]
    return body


def test_400_for_a_host_the_portal_does_not_serve(client):
    assert_styled(client.get("/", HTTP_HOST="evil.example"), 400, "Bad request")


def test_403_for_a_role_that_may_not(client_for, bob, acme):
    body = assert_styled(client_for(bob).get(reverse("activity:list", kwargs={"code": "acme"})), 403, "Not allowed")
    assert "bob@example.com" in body  # the user's menu is there: a page of the portal


def test_404_for_a_page_that_does_not_exist(client_for, alice):
    assert_styled(client_for(alice).get("/no-such-page/"), 404, "Not found")


@pytest.mark.parametrize("debug", [False, True])
def test_a_csrf_failure_is_the_portals_page_with_a_way_back(alice, settings, debug):
    settings.DEBUG = debug
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    client.get(reverse("my_account"))  # the CSRF cookie
    back = "http://testserver/accounts/"
    response = client.post(reverse("time_zone_set"), {"time_zone": "Asia/Tokyo"}, HTTP_REFERER=back)
    body = assert_styled(response, 403, "This page has expired")
    assert "Reload the page and try again." in body and f'href="{back}"' in body
    assert "no-store" in response["Cache-Control"]
    alice.refresh_from_db()
    assert alice.time_zone == ""  # nothing changed

    # A Referer from elsewhere is never the way back.
    elsewhere = client.post(reverse("time_zone_set"), HTTP_REFERER="https://evil.example/page")
    assert "evil.example" not in elsewhere.content.decode() and 'href="/"' in elsewhere.content.decode()


def test_a_csrf_failure_without_cookies_says_so(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    body = assert_styled(client.post(reverse("time_zone_set")), 403, "This page has expired")
    assert "did not send the portal's cookies" in body


def test_429_past_the_secret_show_limit(client_for, alice, acme_secrets, settings, time_machine):
    settings.SECRET_SHOW_LIMIT_PER_USER = 1
    key, plaintext = acme_secrets[KeyKind.EMPORIX]
    client = client_for(alice)
    url = reverse("apikeys:secret", kwargs={"code": "acme", "key_id": key.public_id})
    # The clock stands still: both requests count in one fixed window, even at a minute's turn.
    time_machine.move_to(timezone.now(), tick=False)
    client.post(url)
    listing = "http://testserver/tenants/acme/api-keys/"
    response = client.post(url, HTTP_REFERER=listing)
    body = assert_styled(response, 429, "Too many requests")
    assert "Too many secrets shown" in body and f'href="{listing}"' in body and plaintext not in body
    assert 0 < int(response["Retry-After"]) <= settings.SECRET_SHOW_WINDOW


def test_429_past_the_login_limit_is_the_styled_login_page(client, alice, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_EMAIL = 1
    client.post(reverse("login"), {"username": alice.email, "password": "wrong"})
    response = client.post(reverse("login"), {"username": alice.email, "password": "wrong"})
    body = response.content.decode()
    assert response.status_code == 429 and STYLED in body and "Too many failed logins" in body
    assert int(response["Retry-After"]) > 0


@pytest.mark.urls(__name__)
def test_500_for_an_unexpected_error(client):
    client.raise_request_exception = False
    body = assert_styled(client.get("/boom/"), 500, "Something went wrong")
    assert "secret-looking" not in body and "RuntimeError" not in body


def test_503_while_the_database_is_out():
    response = unavailable_page()
    body = response.content.decode()
    assert response.status_code == 503 and STYLED in body and "Error 503" in body
    assert "Temporarily unavailable" in body and response["Retry-After"]
