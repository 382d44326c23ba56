"""Login alerts, through a real SMTP server (aiosmtpd on a free port, Django's SMTP backend):
a login from a new browser family or address is mailed to the user; the first login ever, and
a known browser and address, are not. That nothing was mailed is known when a sentinel mail,
sent afterwards to the same server, has arrived with nothing before it (SmtpInbox.flushed)."""

import re

import pytest
from django.test import Client

from accounts.models import KnownDevice
from accounts.tests.conftest import log_in
from conftest import free_port

pytestmark = pytest.mark.django_db

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
FIREFOX_NEWER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)


def login_from(user, address: str, agent: str) -> None:
    assert log_in(Client(REMOTE_ADDR=address, HTTP_USER_AGENT=agent), user.email).status_code == 302


def test_a_login_from_a_new_address_or_browser_is_mailed(smtp_server, alice):
    login_from(alice, "10.0.0.1", FIREFOX)  # the first login ever
    login_from(alice, "10.0.0.1", FIREFOX_NEWER)  # same browser family, same address
    assert smtp_server.flushed() == []
    login_from(alice, "198.51.100.7", SAFARI_IPHONE)
    (alert,) = smtp_server.flushed()
    assert alert["To"] == "alice@example.com"
    assert alert["Subject"] == "[API Key Portal] New login from Safari on iOS"
    body = (
        next(part for part in alert.walk() if part.get_content_type() == "text/plain").get_payload(decode=True).decode()
    )
    assert "Safari on iOS" in body and "198.51.100.7" in body
    # When, in the portal's one format (kernel.dates.HUMAN_FORMAT: "27 Nov 2026, 16:51 UTC").
    assert re.search(r"When: +\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d [A-Z]", body)
    assert "http://testserver/accounts/" in body  # where to end sessions
    assert "http://testserver/accounts/password/reset/" in body


def test_the_new_pair_is_remembered(smtp_server, alice):
    login_from(alice, "10.0.0.1", FIREFOX)
    login_from(alice, "10.0.0.2", FIREFOX)
    login_from(alice, "10.0.0.2", FIREFOX)
    assert len(smtp_server.flushed()) == 1
    assert set(KnownDevice.objects.filter(user=alice).values_list("browser", "address")) == {
        ("Firefox on Windows", "10.0.0.1"),
        ("Firefox on Windows", "10.0.0.2"),
    }


def test_a_failed_login_is_not_mailed(smtp_server, alice):
    login_from(alice, "10.0.0.1", FIREFOX)
    Client(REMOTE_ADDR="203.0.113.9").post("/accounts/login/", {"username": alice.email, "password": "wrong"})
    assert smtp_server.flushed() == []


def test_an_unreachable_mail_server_does_not_stop_the_login(alice, settings, caplog):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing listens
    login_from(alice, "10.0.0.1", FIREFOX)
    login_from(alice, "10.0.0.2", FIREFOX)
    assert "Login alert not sent" in caplog.text


def test_alerts_can_be_turned_off(smtp_server, alice, settings):
    settings.LOGIN_ALERTS = False
    login_from(alice, "10.0.0.1", FIREFOX)
    login_from(alice, "10.0.0.2", SAFARI_IPHONE)
    assert smtp_server.flushed() == []
