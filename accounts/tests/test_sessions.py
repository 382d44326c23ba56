"""Sessions: idle timeout and absolute lifetime (moved clock), ending one or all other
sessions from My Account, a password or second-factor change ending the other sessions, logout
ending the session on the server, and __Host- cookies with secure cookies on."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import time_machine
from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session
from django.test import Client

from accounts.tests.conftest import log_in, reauthenticate, set_up_totp
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


def browser(address: str, agent: str) -> Client:
    return Client(REMOTE_ADDR=address, HTTP_USER_AGENT=agent)


def logged_in_browser(user, address="10.1.1.1", agent=FIREFOX) -> Client:
    client = browser(address, agent)
    assert log_in(client, user.email).status_code == 302
    return client


def is_logged_in(client) -> bool:
    return client.get("/tenants/").status_code == 200


def later(seconds: float):
    return time_machine.travel(time.time() + seconds, tick=False)


def test_an_idle_session_ends_on_the_server(alice, settings):
    client = logged_in_browser(alice)
    key = client.session.session_key
    with later(settings.SESSION_IDLE_TIMEOUT + 1):
        response = client.get("/tenants/")
        assert response.status_code == 302 and response.url == "/accounts/login/?next=/tenants/"
        assert not Session.objects.filter(session_key=key).exists()
        assert not UserSession.objects.filter(session_key=key).exists()
        assert "without activity" in client.get(response.url).content.decode()


def test_activity_keeps_a_session_alive_until_its_absolute_lifetime(alice, settings):
    assert settings.SESSION_IDLE_TIMEOUT == 30 * 60 and settings.SESSION_ABSOLUTE_LIFETIME == 12 * 3600
    client = logged_in_browser(alice)
    start = time.time()
    step = 20 * 60  # a request every 20 minutes: never idle for 30
    for elapsed in range(step, settings.SESSION_ABSOLUTE_LIFETIME, step):
        with time_machine.travel(start + elapsed, tick=False):
            assert is_logged_in(client), f"logged out after {elapsed} s"
    with time_machine.travel(start + settings.SESSION_ABSOLUTE_LIFETIME, tick=False):
        assert not is_logged_in(client)
        assert "maximum length" in client.get("/accounts/login/").content.decode()


def test_the_timeouts_are_settings(alice, settings):
    settings.SESSION_IDLE_TIMEOUT = 120
    client = logged_in_browser(alice)
    with later(100):
        assert is_logged_in(client)
    with later(100 + 121):
        assert not is_logged_in(client)


def test_last_seen_is_kept_at_most_once_a_minute(alice):
    client = logged_in_browser(alice)
    row = UserSession.objects.get(session_key=client.session.session_key)
    with later(30):
        client.get("/tenants/")
    row.refresh_from_db()
    first = row.last_seen_at
    with later(90):
        client.get("/tenants/")
    row.refresh_from_db()
    assert row.last_seen_at.timestamp() > first.timestamp() + 60


def test_my_account_lists_the_sessions_with_device_and_address(alice):
    logged_in_browser(alice, "10.1.1.1", FIREFOX)
    mine = logged_in_browser(alice, "10.2.2.2", CHROME)
    body = mine.get("/accounts/").content.decode()
    assert "Firefox on Windows" in body and "10.1.1.1" in body
    assert "Chrome on Linux" in body and "10.2.2.2" in body
    assert body.count("This session") == 1


def test_ending_one_other_session(alice):
    other = logged_in_browser(alice, "10.1.1.1", FIREFOX)
    third = logged_in_browser(alice, "10.3.3.3", FIREFOX)
    mine = logged_in_browser(alice, "10.2.2.2", CHROME)
    target = UserSession.objects.get(session_key=other.session.session_key)
    response = mine.post(f"/accounts/sessions/{target.pk}/end/")
    assert response.status_code == 302
    assert not is_logged_in(other)
    assert is_logged_in(third) and is_logged_in(mine)


def test_ending_all_other_sessions(alice, bob):
    others = [logged_in_browser(alice, f"10.1.1.{n}") for n in range(3)]
    bobs = logged_in_browser(bob)
    mine = logged_in_browser(alice, "10.2.2.2", CHROME)
    assert mine.post("/accounts/sessions/end-others/").status_code == 302
    assert not any(is_logged_in(client) for client in others)
    assert is_logged_in(mine) and is_logged_in(bobs)


def test_one_cannot_end_someone_elses_session(alice, bob):
    bobs = logged_in_browser(bob)
    mine = logged_in_browser(alice)
    target = UserSession.objects.get(session_key=bobs.session.session_key)
    assert mine.post(f"/accounts/sessions/{target.pk}/end/").status_code == 404
    assert is_logged_in(bobs)


def test_a_password_change_ends_the_other_sessions(alice):
    other = logged_in_browser(alice, "10.1.1.1")
    other_key = other.session.session_key
    mine = logged_in_browser(alice, "10.2.2.2", CHROME)
    form = {"oldpassword": PASSWORD, "password1": "a-brand-new-passphrase", "password2": "a-brand-new-passphrase"}
    assert mine.post("/accounts/password/change/", form).status_code == 302
    assert not Session.objects.filter(session_key=other_key).exists()
    assert not is_logged_in(other)
    assert is_logged_in(mine)


@pytest.mark.django_db(transaction=True)  # allauth signals the new app on commit, within the request
def test_setting_up_a_second_factor_ends_the_other_sessions(alice):
    other = logged_in_browser(alice, "10.1.1.1")
    mine = logged_in_browser(alice, "10.2.2.2", CHROME)
    reauthenticate(mine)
    set_up_totp(mine)
    assert not is_logged_in(other)
    assert is_logged_in(mine)


def test_logging_out_ends_the_session_on_the_server(alice):
    client = logged_in_browser(alice)
    cookie = client.cookies["sessionid"].value
    assert client.get("/accounts/logout/").status_code == 200  # a GET only asks
    assert is_logged_in(client)
    assert client.post("/accounts/logout/").status_code == 302
    assert not Session.objects.filter(session_key=cookie).exists()
    replay = browser("10.1.1.1", FIREFOX)
    replay.cookies["sessionid"] = cookie
    assert not is_logged_in(replay)


COOKIES = """
import django
django.setup()
from django.test import Client
response = Client().get("/accounts/login/", secure=True)
for morsel in response.cookies.values():
    print(morsel.key, morsel["secure"], morsel["path"], repr(morsel["domain"]))
from django.conf import settings
print(settings.SESSION_COOKIE_NAME)
"""


@pytest.mark.parametrize(
    ("secure", "expected"),
    [("on", ["__Host-csrftoken True / ''", "__Host-sessionid"]), ("off", ["csrftoken  / ''", "sessionid"])],
)
def test_secure_cookies_get_the_host_prefix(secure, expected):
    env = {
        **os.environ,
        "SECURE_COOKIES": secure,
        "ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": "sqlite:///:memory:",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
    }
    out = subprocess.run(
        [sys.executable, "-c", COOKIES],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
    )
    assert out.stdout.splitlines() == expected, out.stderr
