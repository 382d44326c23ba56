"""Login alerts, through a real SMTP server (aiosmtpd on a free port, Django's SMTP backend):
a login from a new browser family or address is mailed to the user; the first login ever, and
a known browser and address, are not."""

import email
import re
import socket
import time

import pytest
from aiosmtpd.controller import Controller
from django.test import Client

from accounts.models import KnownDevice
from accounts.tests.conftest import log_in

pytestmark = pytest.mark.django_db

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
FIREFOX_NEWER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def inbox(settings):
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield handler
    controller.stop()


def login_from(user, address: str, agent: str) -> None:
    assert log_in(Client(REMOTE_ADDR=address, HTTP_USER_AGENT=agent), user.email).status_code == 302


def delivered(inbox: Inbox, count: int) -> list:
    # The SMTP server hands messages over on its own thread.
    deadline = time.monotonic() + 5
    while len(inbox.messages) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)
    return inbox.messages


def test_a_login_from_a_new_address_or_browser_is_mailed(inbox, alice):
    login_from(alice, "10.0.0.1", FIREFOX)  # the first login ever
    login_from(alice, "10.0.0.1", FIREFOX_NEWER)  # same browser family, same address
    assert delivered(inbox, 1) == []
    login_from(alice, "198.51.100.7", SAFARI_IPHONE)
    (alert,) = delivered(inbox, 1)
    assert alert["To"] == "alice@example.com"
    assert alert["Subject"] == "[API Key Portal] New login from Safari on iOS"
    body = next(part for part in alert.walk() if part.get_content_type() == "text/plain").get_payload(decode=True).decode()
    assert "Safari on iOS" in body and "198.51.100.7" in body
    # When, in the portal's one format (kernel.dates.HUMAN_FORMAT: "27 Nov 2026, 16:51 UTC").
    assert re.search(r"When: +\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d [A-Z]", body)
    assert "http://testserver/accounts/" in body  # where to end sessions
    assert "http://testserver/accounts/password/reset/" in body


def test_the_new_pair_is_remembered(inbox, alice):
    login_from(alice, "10.0.0.1", FIREFOX)
    login_from(alice, "10.0.0.2", FIREFOX)
    login_from(alice, "10.0.0.2", FIREFOX)
    assert len(delivered(inbox, 2)) == 1
    assert set(KnownDevice.objects.filter(user=alice).values_list("browser", "address")) == {
        ("Firefox on Windows", "10.0.0.1"),
        ("Firefox on Windows", "10.0.0.2"),
    }


def test_a_failed_login_is_not_mailed(inbox, alice):
    login_from(alice, "10.0.0.1", FIREFOX)
    Client(REMOTE_ADDR="203.0.113.9").post("/accounts/login/", {"username": alice.email, "password": "wrong"})
    assert delivered(inbox, 1) == []


def test_an_unreachable_mail_server_does_not_stop_the_login(alice, settings, caplog):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing listens
    login_from(alice, "10.0.0.1", FIREFOX)
    login_from(alice, "10.0.0.2", FIREFOX)
    assert "Login alert not sent" in caplog.text


def test_alerts_can_be_turned_off(inbox, alice, settings):
    settings.LOGIN_ALERTS = False
    login_from(alice, "10.0.0.1", FIREFOX)
    login_from(alice, "10.0.0.2", SAFARI_IPHONE)
    assert delivered(inbox, 1) == []
