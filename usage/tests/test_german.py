"""The usage pages in German (issue 23): the tenant's overview, a key's usage page and its chart's
text alternative, the keys page's 24-hour line; the same queries as in English (the pages are
performance-sensitive: their own tests count them)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from apikeys.models import ApiKey, KeyKind
from kernel import usage as counting
from tenants.tests.test_german import assert_german, german, text

from .rollups import NOW, frozen, hours_ago, record  # noqa: F401 (frozen: a fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

OPERATION = "GET-price-list-all-prices"


@pytest.fixture
def emporix(acme):
    key = ApiKey.objects.get(tenant=acme, kind=KeyKind.EMPORIX)
    record(key, OPERATION, counting.ALLOWED, 5, NOW)
    record(key, OPERATION, counting.INSUFFICIENT_SCOPE, 2, hours_ago(1))
    record(key, counting.OPERATION_TOKEN, counting.ISSUED, 1, hours_ago(3))
    return key


def _key_url(key) -> str:
    return reverse("usage:key", kwargs={"code": "acme", "key_id": key.public_id})


def _queries(client, url: str, language: str) -> int:
    with translation.override(language), CaptureQueriesContext(connection) as queries:
        assert client.get(url, headers={"accept-language": language}).status_code == 200
    return len(queries.captured_queries)


def test_the_overview_is_german(client_for, alice, emporix):
    response = german(client_for(alice), reverse("usage:overview", kwargs={"code": "acme"}))
    assert response.status_code == 200
    assert_german(
        text(response),
        present=[
            "Nutzung",
            "In den letzten 24 Stunden",
            "Erfolgsquote",
            "Aufrufe im Zeitverlauf",
            "Meistgenutzte Schlüssel",
            "Schlüssel mit steigenden Fehlern",
            "Letzte 24 Stunden",
            "Letzte 7 Tage",
            "CSV herunterladen",
            "Erlaubt: 5",
            "Fehlender Scope: 2",
            "Token ausgestellt: 1",
        ],
        absent=[
            "Key usage",
            "In the last 24 hours",
            "Success rate",
            "Calls over time",
            "Busiest keys",
            "Keys whose failures are rising",
            "Last 24 hours",
            "Download CSV",
            "Allowed",
            "Missing scope",
            "Token issued",
            "calls",
            "Failed",
        ],
    )


def test_the_chart_text_alternative_is_german(client_for, alice, emporix):
    html = german(client_for(alice), _key_url(emporix)).content.decode()
    caption = re.search(r'<figcaption id="key-calls-caption">(.*?)</figcaption>', html, re.S).group(1)
    assert caption == (
        "Aufrufe von Emporix API pro Stunde, nach Ergebnis: 8 Aufrufe in den letzten 24 Stunden, "
        "6 erfolgreich, 2 fehlgeschlagen. Die Tabelle unter dem Diagramm enthält alle Zahlen."
    )
    # The bars' own titles (<title> in the SVG) and the table's heading.
    assert re.search(r"<title>\d+ Dez 2026, \d\d:00 UTC: 5 Erlaubt</title>", html)
    assert "Die Zahlen des Diagramms als Tabelle" in html
    english = client_for(alice).get(_key_url(emporix)).content.decode()
    assert "Calls of Emporix API per hour, by outcome: 8 calls in the last 24 hours, 6 succeeded, 2 failed." in english


def test_the_chart_says_one_call_in_the_singular(client_for, alice, acme):
    key = ApiKey.objects.get(tenant=acme, kind=KeyKind.STOREFRONT)
    record(key, OPERATION, counting.ALLOWED, 1, NOW)
    assert ": 1 Aufruf in den letzten 24 Stunden" in german(client_for(alice), _key_url(key)).content.decode()
    assert ": 1 call in the last 24 hours" in client_for(alice).get(_key_url(key)).content.decode()


def test_a_keys_usage_page_is_german(client_for, alice, emporix):
    assert_german(
        text(german(client_for(alice), _key_url(emporix))),
        present=["Nutzung von Emporix API", "Häufigste Operationen", "Fehler nach Grund", "Zurück zu den Schlüsseln"],
        absent=["Usage of", "Top operations", "Errors by reason", "Back to the keys", "Last used from", "Reason"],
    )


def test_the_keys_page_line_speaks_german(client_for, alice, emporix):
    html = german(client_for(alice), reverse("apikeys:list", kwargs={"code": "acme"})).content.decode()
    assert 'aria-label="Pro Stunde: höchstens 5, mindestens 0, diese Stunde 5"' in html
    assert "Aufrufe von Emporix API" in html


@pytest.mark.parametrize(
    "url",
    [
        reverse("usage:overview", kwargs={"code": "acme"}),
        reverse("usage:overview", kwargs={"code": "acme"}) + "?range=30d",
        reverse("apikeys:list", kwargs={"code": "acme"}),
    ],
)
def test_german_costs_no_query_more(client_for, alice, emporix, url):
    client = client_for(alice)
    client.get(url)  # the session's first visit writes the tenant once
    assert _queries(client, url, "de") == _queries(client, url, "en")


def test_a_keys_page_costs_no_query_more_in_german(client_for, alice, emporix):
    client = client_for(alice)
    client.get(_key_url(emporix))
    assert _queries(client, _key_url(emporix), "de") == _queries(client, _key_url(emporix), "en")
