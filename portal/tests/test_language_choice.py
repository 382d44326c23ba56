"""The interface's language (docs/i18n.md): the user's My Account setting, else the language
cookie the switch on the signed-out pages sets, else the browser's Accept-Language, else
English. Mails go out in the recipient's language. Machine paths stay English whatever the
client asks for."""

import base64
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from notifications.kinds import WEBHOOK_FAILING
from notifications.services import notify_tenant_admins

pytestmark = pytest.mark.django_db

GERMAN = {"accept-language": "de-DE,de;q=0.9,en;q=0.5"}


def _page(client, url: str = "/accounts/", **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    return response, response.content.decode()


def test_without_a_setting_the_browser_language_is_used(client_for, alice):
    client = client_for(alice)
    response, body = _page(client, **GERMAN)
    assert '<html lang="de">' in body and "<h1>Mein Konto</h1>" in body
    assert response["Content-Language"] == "de"
    assert "Accept-Language" in response["Vary"]


def test_without_a_setting_or_a_browser_language_it_is_english(client_for, alice):
    response, body = _page(client_for(alice))
    assert '<html lang="en">' in body and "<h1>My Account</h1>" in body
    assert response["Content-Language"] == "en"
    _, body = _page(client_for(alice), **{"accept-language": "fr-FR,fr;q=0.9"})  # not offered: English
    assert "<h1>My Account</h1>" in body


def test_the_my_account_setting_beats_the_browser_and_takes_effect_at_once(client_for, client, alice):
    logged_in = client_for(alice)
    response = logged_in.post(reverse("language_set"), {"language": "de"}, headers={"accept-language": "en"})
    assert response.status_code == 302 and response["Location"].endswith("#language")
    alice.refresh_from_db()
    assert alice.language == "de"
    response = logged_in.get(response["Location"], headers={"accept-language": "en"})
    body = response.content.decode()
    assert "<h1>Mein Konto</h1>" in body and "Das Portal spricht jetzt Deutsch." in body
    assert '<option value="de" lang="de" selected>Deutsch</option>' in body

    # It survives logging out and in again, whatever the browser says.
    logged_in.post(reverse("logout"))
    client.cookies.clear()
    _, body = _page(client_for(alice), **{"accept-language": "en-US"})
    assert "<h1>Mein Konto</h1>" in body

    # Back to the browser's language.
    client.post(reverse("language_set"), {"language": ""})
    alice.refresh_from_db()
    assert alice.language == ""
    _, body = _page(client, **{"accept-language": "en-US"})
    assert "<h1>My Account</h1>" in body


def test_an_unknown_language_is_refused(client_for, alice):
    client = client_for(alice)
    response = client.post(reverse("language_set"), {"language": "xx"}, follow=True)
    assert "Choose a language from the list." in response.content.decode()
    alice.refresh_from_db()
    assert alice.language == ""


def test_the_switch_on_the_login_page_works_for_an_anonymous_visitor(client):
    body = client.get(reverse("login")).content.decode()
    assert 'action="/language/"' in body and 'aria-label="Language"' in body
    assert ">English</button>" in body and ">Deutsch</button>" in body
    response = client.post("/language/", {"language": "de", "next": "/accounts/login/"})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    body = client.get(reverse("login"), headers={"accept-language": "en"}).content.decode()
    assert '<html lang="de">' in body and "<h1>Anmelden</h1>" in body
    assert 'aria-label="Sprache"' in body
    assert ">English</button>" in body and ">Deutsch</button>" in body  # each named in itself


def test_the_switch_needs_the_csrf_token(client):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/language/", {"language": "de", "next": "/"}).status_code == 403


def test_a_mail_to_a_german_user_is_german_and_to_an_english_one_english(acme, alice, bob, django_user_model):
    from tenants.models import Membership, Role

    Membership.objects.filter(user=bob, tenant=acme).update(role=Role.ADMIN)
    bob.language = "de"
    bob.save()
    endpoint = type("Endpoint", (), {"url": "https://hooks.example.com/x", "consecutive_failures": 5})()
    sent = notify_tenant_admins(
        tenant=acme, kind=WEBHOOK_FAILING, context={"endpoint": endpoint, "endpoint_url": "https://portal/x"}
    )
    assert sent == 2
    by_recipient = {message.to[0]: message for message in mail.outbox}
    german, english = by_recipient[bob.email], by_recipient[alice.email]
    assert german.subject == "[API Key Portal] Ein Webhook-Endpunkt von Acme Corp schlägt wiederholt fehl"
    assert "Guten Tag," in german.body and "5-mal in Folge fehlgeschlagen" in german.body
    assert "Benachrichtigungseinstellungen" in german.body
    html = german.alternatives[0][0]
    assert '<html lang="de">' in html and "Guten Tag," in html
    assert english.subject == "[API Key Portal] A webhook endpoint of Acme Corp keeps failing"
    assert "Hello," in english.body and '<html lang="en">' in english.alternatives[0][0]


def test_a_login_alert_is_in_the_users_language(smtp_server, alice):
    from django.test import Client

    from accounts.tests.conftest import log_in

    alice.language = "de"
    alice.save()
    firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
    for address in ["10.0.0.1", "198.51.100.7"]:  # the first login ever is not mailed
        assert log_in(Client(REMOTE_ADDR=address, HTTP_USER_AGENT=firefox), alice.email).status_code == 302
    (alert,) = smtp_server.flushed()
    assert alert["Subject"].endswith("Neue Anmeldung von Firefox unter Windows")
    body = next(p for p in alert.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    assert "Wenn Sie das waren, ist nichts zu tun." in body
    assert re.search(r"Zeit: +\d\d\.\d\d\.\d{4}, \d\d:\d\d [A-Z]", body)  # "07.12.2026, 14:05 UTC"


def test_machine_paths_stay_english_with_a_german_browser(client, client_for, alice):
    # A German page first, on the same thread: the next request must not inherit its language.
    _page(client_for(alice), **GERMAN)
    assert translation.get_language() == "en"
    client.logout()
    basic = "Basic " + base64.b64encode(b"nobody:wrong").decode()
    token = client.post(
        "/oauth/token",
        "grant_type=client_credentials",
        content_type="application/x-www-form-urlencoded",
        headers={**GERMAN, "authorization": basic},
    )
    assert token.status_code == 401 and token.json()["error"] == "invalid_client"
    assert "Content-Language" not in token and "Accept-Language" not in token.get("Vary", "")
    api = client.get("/api/v1/keys/", headers=GERMAN)
    assert api.status_code == 401
    assert "Content-Language" not in api and "Accept-Language" not in api.get("Vary", "")
    problem = api.json()
    assert problem["title"].isascii() and "Authentifizierung" not in str(problem)


def test_the_error_pages_speak_the_browsers_language(client):
    body = client.get("/no/such/page/", headers=GERMAN).content.decode()
    assert '<html lang="de">' in body and "Nicht gefunden" in body and "Zurück zum Portal" in body


def test_the_outage_page_speaks_the_browsers_language_without_the_database(rf):
    from kernel.outages import unavailable_page

    request = rf.get("/tenants/", headers=GERMAN)
    response = unavailable_page(request)
    body = response.content.decode()
    assert response.status_code == 503 and response["Content-Language"] == "de"
    assert '<html lang="de">' in body and "Vorübergehend nicht verfügbar" in body
    assert "Temporarily unavailable" in unavailable_page().content.decode()  # no request: English


def test_the_key_hygiene_and_leak_mails_render_in_german(acme, alice):
    from datetime import UTC, datetime, timedelta
    from types import SimpleNamespace

    from notifications.kinds import KEY_HYGIENE, SECRET_LEAKED
    from notifications.services import render_mail

    now = datetime(2026, 12, 7, 14, 5, tzinfo=UTC)
    key = SimpleNamespace(name="Lager", client_id="akp_client_1")
    notice = SimpleNamespace(key=key, due_at=now + timedelta(days=3, hours=4))
    context = {"tenant": acme, "now": now, "expiry": [notice], "renew_by": [notice]}
    message = render_mail(
        kind=KEY_HYGIENE,
        to=alice.email,
        context=context,
        template="apikeys/email/key_hygiene",
        subject=lambda: translation.gettext("Keys that need attention"),
        language="de",
    )
    assert message.subject == "[API Key Portal] Schlüssel, die Aufmerksamkeit brauchen"
    assert (
        "Lager (Client-ID akp_client_1) läuft am 2026-12-10 18:05 UTC ab (in 3\xa0Tagen, 4\xa0Stunden)" in message.body
    )
    assert "Laufen ab:" in message.body and "„Schlüssel, die Aufmerksamkeit brauchen“" in message.body
    leak = render_mail(
        kind=SECRET_LEAKED,
        to=alice.email,
        context={"tenant": acme, "key": key, "stopped": True, "source": "GitHub"},
        template="apikeys/email/secret_leaked",
        subject="x",
        language="de",
    )
    assert "wurde von GitHub als öffentlich gefunden gemeldet" in leak.body
    assert "Das Portal hat es sofort gestoppt" in leak.alternatives[0][0]
    english = render_mail(
        kind=KEY_HYGIENE,
        to=alice.email,
        context=context,
        template="apikeys/email/key_hygiene",
        subject="x",
        language="en",
    )
    assert "Lager (Client ID akp_client_1) expires on 2026-12-10 18:05 UTC (in 3\xa0days, 4\xa0hours)" in english.body
