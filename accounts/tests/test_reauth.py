"""accounts.reauth: a sensitive view runs only within ACCOUNT_REAUTHENTICATION_TIMEOUT of a
login or re-authentication; otherwise nothing runs and the user is sent to re-authenticate and
back (GET: the same URL; POST: the form's page), or gets a JSON 401 from fetch()."""

import time

import pyotp
import pytest
import time_machine
from allauth.mfa.totp.internal.auth import TOTP

from accounts import signals
from accounts.tests import reauth_urls
from accounts.tests.conftest import log_in, reauthenticate
from conftest import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.urls("accounts.tests.reauth_urls")]


@pytest.fixture(autouse=True)
def _nothing_ran():
    reauth_urls.ran.clear()


def later(seconds: float):
    return time_machine.travel(time.time() + seconds, tick=False)


def test_it_runs_right_after_a_login(alice_client):
    assert alice_client.get("/test/sensitive/").content == b"done"
    assert reauth_urls.ran == ["GET"]


def test_a_session_without_a_recorded_login_must_re_authenticate(client, alice):
    client.force_login(alice)  # no password was typed
    response = client.get("/test/sensitive/")
    assert response.status_code == 302 and response.url == "/accounts/reauthenticate/?next=%2Ftest%2Fsensitive%2F"
    assert reauth_urls.ran == []


def test_after_the_window_a_get_goes_to_re_authenticate_and_back(alice_client, settings):
    assert settings.ACCOUNT_REAUTHENTICATION_TIMEOUT == 600
    with later(599):
        assert alice_client.get("/test/sensitive/?page=2").status_code == 200
    with later(601):
        response = alice_client.get("/test/sensitive/?page=2")
        assert response.status_code == 302
        assert response.url == "/accounts/reauthenticate/?next=%2Ftest%2Fsensitive%2F%3Fpage%3D2"
        assert "no-store" in response["Cache-Control"]
        page = alice_client.get(response.url)
        assert page.status_code == 200 and 'name="password"' in page.content.decode()
        assert alice_client.post(response.url, {"password": "wrong"}).status_code == 200
        back = alice_client.post(response.url, {"password": PASSWORD})
        assert back.status_code == 302 and back.url == "/test/sensitive/?page=2"
        assert alice_client.get(back.url).status_code == 200
    assert reauth_urls.ran == ["GET", "GET"]


def test_a_post_is_not_replayed_and_returns_to_the_page_it_came_from(alice_client):
    with later(601):
        response = alice_client.post("/test/sensitive/", {"x": "1"}, HTTP_REFERER="http://testserver/tenants/acme/")
        assert response.url == "/accounts/reauthenticate/?next=http%3A%2F%2Ftestserver%2Ftenants%2Facme%2F"
        back = reauthenticate(alice_client)  # the page's form posts next along
        assert back.status_code == 302 and back.url == "/"
        back = alice_client.post(response.url, {"password": PASSWORD})
        assert back.url == "http://testserver/tenants/acme/"
    assert reauth_urls.ran == []  # the POST never ran


def test_a_post_from_another_site_returns_home(alice_client):
    with later(601):
        response = alice_client.post("/test/sensitive/", HTTP_REFERER="https://evil.example/")
        assert response.url == "/accounts/reauthenticate/?next=%2F"


def test_a_post_returns_to_the_form_page_the_view_names(alice_client):
    with later(601):
        response = alice_client.post("/test/acme/action/")
        assert response.url == "/accounts/reauthenticate/?next=%2Ftest%2Facme%2Fform%2F"
        reauthenticate(alice_client)
        assert alice_client.post("/test/acme/action/").content == b"done"
    assert reauth_urls.ran == ["acme"]


def test_fetch_gets_json_instead_of_a_redirect(alice_client):
    with later(601):
        response = alice_client.post(
            "/test/sensitive/", HTTP_ACCEPT="application/json", HTTP_REFERER="http://testserver/tenants/acme/"
        )
    assert response.status_code == 401
    assert response.json() == {
        "error": "reauthentication_required",
        "reauthenticate_url": "/accounts/reauthenticate/?next=http%3A%2F%2Ftestserver%2Ftenants%2Facme%2F",
    }
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(
    ("accept", "json"),
    [
        ("application/json", True),
        ("application/json, text/plain, */*", True),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", False),  # a form POST
        ("text/html, application/json;q=0.9", False),
    ],
)
def test_json_or_a_redirect_as_every_view_decides(alice_client, accept, json):
    """The same answer type as the secret endpoint gives (kernel.http.wants_json), so that a
    client never gets a redirect from one and JSON from the other for the same request."""
    with later(601):
        response = alice_client.post("/test/sensitive/", HTTP_ACCEPT=accept)
    assert response.status_code == (401 if json else 302)


def test_the_window_is_a_setting(alice_client, settings):
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 60
    with later(61):
        assert alice_client.get("/test/sensitive/").status_code == 302


def test_re_authenticating_sends_the_signal(alice_client):
    received = []
    signals.reauthenticated.connect(lambda **kw: received.append(kw), dispatch_uid="test-reauth", weak=False)
    try:
        reauthenticate(alice_client, "wrong")
        assert received == []
        reauthenticate(alice_client)
    finally:
        signals.reauthenticated.disconnect(dispatch_uid="test-reauth")
    (sent,) = received
    assert sent["method"] == "password" and sent["user"].email == "alice@example.com"
    assert sent["authenticator_type"] is None and sent["request"].path == "/accounts/reauthenticate/"


def test_a_user_without_a_password_re_authenticates_with_the_app(client, alice):
    secret = pyotp.random_base32()
    TOTP.activate(alice, secret)
    alice.set_unusable_password()
    alice.save()
    client.force_login(alice)
    response = client.get("/test/sensitive/")
    assert response.url == "/accounts/2fa/reauthenticate/?next=%2Ftest%2Fsensitive%2F"
    received = []
    signals.reauthenticated.connect(lambda **kw: received.append(kw), dispatch_uid="test-reauth-mfa", weak=False)
    try:
        back = client.post(response.url, {"code": pyotp.TOTP(secret).now()})
    finally:
        signals.reauthenticated.disconnect(dispatch_uid="test-reauth-mfa")
    assert back.url == "/test/sensitive/"
    assert client.get(back.url).content == b"done"
    assert [(r["method"], r["authenticator_type"]) for r in received] == [("mfa", "totp")]


def test_a_login_with_a_second_factor_counts_as_recent(client, alice):
    secret = pyotp.random_base32()
    TOTP.activate(alice, secret)
    log_in(client, alice.email)
    assert client.get("/test/sensitive/").status_code == 302  # password only: not logged in yet
    client.post("/accounts/2fa/authenticate/", {"code": pyotp.TOTP(secret).now()})
    assert client.get("/test/sensitive/").status_code == 200


def test_the_cast_fixture_re_authenticates_a_forced_login(client, alice, reauthenticated):
    client.force_login(alice)
    client = reauthenticated(client)
    assert client.get("/test/sensitive/").content == b"done"


STATUS = "/accounts/reauthenticate/status/"


def test_the_status_says_whether_the_authentication_is_recent(alice_client):
    """static/js/reauth-keep.js asks before submitting a form; asking changes nothing."""
    response = alice_client.get(STATUS, {"next": "/tenants/acme/api-keys/new/"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    back = "/accounts/reauthenticate/?next=%2Ftenants%2Facme%2Fapi-keys%2Fnew%2F"
    answer = response.json()
    assert answer["recent"] is True and 590 < answer["seconds_left"] <= 600
    assert answer["reauthenticate_url"] == back
    with later(601):
        answer = alice_client.get(STATUS, {"next": "/tenants/acme/api-keys/new/"}).json()
        assert answer == {"recent": False, "seconds_left": 0, "reauthenticate_url": back}
        reauthenticate(alice_client)
        assert alice_client.get(STATUS).json()["recent"] is True


def test_the_status_returns_only_to_this_site(alice_client):
    for next_url in ("https://elsewhere.example/", "//elsewhere.example/", ""):
        answer = alice_client.get(STATUS, {"next": next_url}).json()
        assert answer["reauthenticate_url"] == "/accounts/reauthenticate/?next=%2F"


def test_the_status_needs_a_login(client, alice):
    response = client.get(STATUS)
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    client.force_login(alice)  # no password typed: not recent
    assert client.get(STATUS).json()["recent"] is False
