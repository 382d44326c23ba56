"""Every mail the portal sends has a plain-text and an HTML part: notifications (their own
templates), and the mails written as text (invitations, allauth's account mails such as login
alerts and password resets) get an HTML part made from the text, links kept."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.tests.conftest import log_in
from kernel import background
from kernel.mail import html_from_text
from tenants.services import invitation_send

pytestmark = pytest.mark.django_db


def parts(mail) -> tuple[str, str]:
    (html,) = [content for content, mimetype in mail.alternatives if mimetype == "text/html"]
    return mail.body, html


def test_the_html_made_from_text_escapes_it_and_keeps_links():
    html = html_from_text("Hi <script>x</script>,\n\nopen https://portal.example.com/a?b=1&c=2 now")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '<a href="https://portal.example.com/a?b=1&amp;c=2">' in html


def test_an_invitation_has_both_parts_with_the_same_link(acme, mailoutbox):
    invitation_send(tenant=acme, email="new@example.com", role="viewer", accept_url="https://portal.example.com/inv/")
    text, html = parts(mailoutbox[0])
    link = next(word for word in text.split() if word.startswith("https://portal.example.com/inv/?token="))
    assert f'href="{link}"' in html


def test_a_login_alert_has_both_parts(alice, mailoutbox, settings):
    settings.LOGIN_ALERTS = True
    log_in(Client(REMOTE_ADDR="10.0.0.1", HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"), alice.email)
    log_in(Client(REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT="curl/8.0"), alice.email)
    (alert,) = mailoutbox
    text, html = parts(alert)
    assert "198.51.100.7" in text and "198.51.100.7" in html


def test_a_password_reset_mail_has_both_parts(client, alice, mailoutbox):
    client.post(reverse("password_reset"), {"email": alice.email})
    assert background.drain()  # the mail is sent after the response
    (mail,) = mailoutbox
    text, html = parts(mail)
    link = next(word for word in text.split() if "/accounts/password/reset/key/" in word)
    assert f'href="{link}"' in html
