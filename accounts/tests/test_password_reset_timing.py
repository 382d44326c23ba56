"""A password-reset request does the same work for an address with an account and one
without (issue 18: an existing account's took about 4 ms longer, the time to render and send
its mail). The timing itself is measured by bench/timing_oracles.py against a real server;
these tests pin down why it holds: the same queries, the same templates rendered, and the
mail sent by the background thread after the response, never by the request."""

import re
import threading

import pytest
from django.core import mail
from django.db import connection
from django.test.signals import template_rendered
from django.test.utils import CaptureQueriesContext

from kernel import background

pytestmark = pytest.mark.django_db

RESET = "/accounts/password/reset/"


class HeldBackend:
    """A mail backend that records the thread each send ran in and, while `hold` is clear,
    waits for it (bounded), to show what the request does while a mail is pending."""

    hold = threading.Event()
    threads: list[str] = []

    def __init__(self, *args, **kwargs) -> None:
        pass

    def send_messages(self, messages) -> int:
        HeldBackend.threads.append(threading.current_thread().name)
        HeldBackend.hold.wait(timeout=10)
        mail.outbox.extend(messages)
        return len(messages)


@pytest.fixture
def held(settings):
    settings.EMAIL_BACKEND = f"{__name__}.HeldBackend"
    HeldBackend.hold.clear()
    HeldBackend.threads.clear()
    yield HeldBackend
    HeldBackend.hold.set()
    assert background.drain()


def test_the_mail_is_sent_by_the_background_thread_after_the_response(client, alice, held):
    response = client.post(RESET, {"email": alice.email})
    # The answer came while the mail's send was still held: the request did not wait for it.
    assert response.status_code == 302
    assert mail.outbox == []
    held.hold.set()
    assert background.drain()
    (sent,) = mail.outbox
    assert sent.to == [alice.email]
    assert "/accounts/password/reset/key/" in sent.body
    assert held.threads == ["portal-background"]


def test_no_mail_for_an_address_without_an_account(client, alice, held):
    assert client.post(RESET, {"email": "nobody@example.com"}).status_code == 302
    held.hold.set()
    assert background.drain()
    assert mail.outbox == [] and held.threads == []


def work_of(client, email: str) -> tuple[list[str], list[str]]:
    """The SQL statements (literals masked) and the templates rendered while `email` asks for
    a reset."""
    rendered: list[str] = []

    def record(sender, template, **kwargs) -> None:
        rendered.append(template.name)

    template_rendered.connect(record)
    try:
        with CaptureQueriesContext(connection) as queries:
            response = client.post(RESET, {"email": email})
    finally:
        template_rendered.disconnect(record)
    assert response.status_code == 302
    statements = [re.sub(r"'[^']*'|\b\d+\b", "?", query["sql"]) for query in queries.captured_queries]
    return statements, rendered


def test_an_address_with_an_account_and_one_without_cost_the_same_queries_and_rendering(client, alice):
    known = work_of(client, alice.email)
    unknown = work_of(client, "nobody@example.com")
    assert known == unknown
    _statements, rendered = known
    # The mail was rendered for both: subject, text, and the HTML part made from the text.
    assert "account/email/password_reset_key_message.txt" in rendered
    assert "notifications/_plain.html" in rendered
    assert background.drain()
    assert len(mail.outbox) == 1  # the one for alice


def test_the_link_still_sets_a_new_password(client, alice):
    client.post(RESET, {"email": alice.email.upper()})
    assert background.drain()
    (sent,) = mail.outbox
    link = next(line for line in sent.body.splitlines() if "/password/reset/key/" in line)
    response = client.get(link.split("testserver", 1)[1], follow=True)
    client.post(
        response.request["PATH_INFO"], {"password1": "a-new-long-passphrase", "password2": "a-new-long-passphrase"}
    )
    alice.refresh_from_db()
    assert alice.check_password("a-new-long-passphrase")
    # Used once: the password it signed over has changed.
    again = client.get(link.split("testserver", 1)[1], follow=True)
    assert again.context["token_fail"] is True
