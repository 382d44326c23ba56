"""The keys pages in German (issue 23): each main page, rendered with German active, says its
words in German (the glossary's: API-Schlüssel, Client-ID, Secret, Scope, erneuern, ...) and
none of its English interface words; the JavaScript catalog has the keys scripts' words. The
catalogue's data (service and scope names), code samples and key names stay as they are."""

import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from apikeys.models import ApiKey, KeyKind
from apikeys.services import key_create, key_rate_limit_set, key_renew
from scopes.models import Scope

pytestmark = pytest.mark.django_db


def _german(client, url: str, *, method: str = "get", data: dict | None = None, status: int = 200) -> str:
    """The page at `url` with German active (and asked for, for the language middleware)."""
    with translation.override("de"):
        response = getattr(client, method)(url, data or {}, headers={"accept-language": "de"})
    assert response.status_code == status, (url, response.status_code)
    body = response.content.decode()
    assert '<html lang="de">' in body
    return body


def _visible(body: str) -> str:
    """The page's text and the attributes people hear or read (labels, titles), without
    scripts, the JSON the scope picker reads, and code (samples, Client IDs, scope names)."""
    body = re.sub(r"<script.*?</script>", " ", body, flags=re.S)
    body = re.sub(r"<(code|pre)\b.*?</\1>", " ", body, flags=re.S)
    attributes = " ".join(
        re.findall(r'(?:aria-label|title|placeholder|data-label|data-label-hide|data-title-hide)="([^"]*)"', body)
    )
    return re.sub(r"<[^>]+>", " ", body) + " " + attributes


def _no_english(body: str, words: list[str]) -> None:
    text = _visible(body)
    found = [word for word in words if re.search(r"(?<![\w-])" + re.escape(word) + r"(?![\w-])", text)]
    assert not found, found


@pytest.fixture
def custom(acme):
    key, _ = key_create(
        tenant=acme, kind=KeyKind.CUSTOM, name="Orders", scopes=Scope.objects.filter(name="tax.tax_read")
    )
    return key


@pytest.fixture
def renewed(acme_secrets):
    key, _ = acme_secrets[KeyKind.EMPORIX]
    key_renew(key=key, grace=timedelta(hours=24))
    key_rate_limit_set(key=key, limit=10000, period="minute")
    return key


KEY_LIST_ENGLISH = [
    "Manage API Keys",
    "Get started",
    "Renew secret",
    "Copy Client ID",
    "Client ID",
    "Old secret",
    "Retire now",
    "Last used",
    "Created",
    "Last renewed",
    "Settings of",
    "Edit",
    "Delete",
    "never",
    "Secret, hidden",
    "Show secret",
    "Copy secret",
    "Every scope of every service, for your own backend.",
    "Add custom API",
    "New custom API key",
    "Search name or Client ID",
    "Has an old secret",
    "Find",
    "Export all custom keys (CSV)",
    "Layout:",
    "Table",
    "Cards",
    "Report a leaked secret",
    "Retire the old secret of",
    "When does the old secret stop working?",
    "After 24 hours",
    "Cancel",
    "Close",
    "Loading…",
    "Rate limit",
    "requests per minute",
]


def test_the_keys_page_in_cards_speaks_german(client_for, alice, acme, custom, renewed):
    body = _german(client_for(alice), reverse("apikeys:list", kwargs={"code": "acme"}))
    for word in [
        "API-Schlüssel verwalten",
        "Erste Schritte",
        "Client-ID von Orders kopieren",
        "Secret von Emporix API erneuern",
        "Altes Secret",
        "Jetzt stilllegen",
        "Zuletzt verwendet: nie",
    ]:
        assert word in body, word
    assert "Ratenlimit: 10.000 Anfragen pro Minute" in body  # numbers the German way
    _no_english(body, KEY_LIST_ENGLISH)


def test_the_keys_page_as_a_table_speaks_german(client_for, alice, acme, custom, renewed):
    body = _german(client_for(alice), reverse("apikeys:list", kwargs={"code": "acme"}) + "?view=table")
    for word in [
        "Aktionen",
        "Als Karte zeigen",
        'data-label="Zuletzt verwendet"',
        "Alle Schlüssel dieser Seite auswählen",
        "1 Scope",
    ]:
        assert word in body, word
    _no_english(
        body, [*KEY_LIST_ENGLISH, "Actions", "Show as card", "Select all keys on this page", "Ticked keys", "1 scope"]
    )


def test_a_viewer_is_told_in_german_why_secrets_are_hidden(client_for, bob, acme):
    body = _german(client_for(bob), reverse("apikeys:list", kwargs={"code": "acme"}))
    assert "Betrachter sehen nie ein Secret" in body
    _no_english(body, ["Secrets are hidden", "viewers never see a secret"])


def test_the_create_form_and_its_scope_picker_speak_german(client_for, alice, acme):
    client = client_for(alice)
    body = _german(client, reverse("apikeys:create", kwargs={"code": "acme"}))
    for word in [
        "Benutzerdefinierten Schlüssel erstellen",
        "Scopes suchen",
        "Alle wählen",
        "0 Scopes gewählt",
        "Schlüssel erzeugen",
        "Zweck",
        "Verantwortlich",
    ]:
        assert word in body, word
    english = [
        "Create a custom API key",
        "Search scopes",
        "Select all",
        "Select none",
        "scopes selected",
        "Generate key",
        "Unlocks",
        "Description",
        "Owner",
        "Environment",
        "Access tokens",
        "Expires",
        "What it is for",
    ]
    _no_english(body, english)
    # A refused form says what is wrong in German too.
    body = _german(
        client, reverse("apikeys:create", kwargs={"code": "acme"}), method="post", data={"name": ""}, status=400
    )
    assert "Wählen Sie mindestens einen Scope." in body
    _no_english(body, ["Choose at least one scope.", *english])


def test_the_renew_disable_and_delete_confirmations_speak_german(client_for, alice, acme, custom):
    client = client_for(alice)
    kwargs = {"code": "acme", "key_id": custom.public_id}
    body = _german(client, reverse("apikeys:renew", kwargs=kwargs))
    assert "Secret von Orders erneuern" in body and "Nach 24 Stunden" in body
    _no_english(body, ["Renew secret", "When does the old secret stop working?", "After 24 hours", "Now", "Cancel"])
    body = _german(client, reverse("apikeys:disable", kwargs=kwargs))
    assert "Orders deaktivieren?" in body
    _no_english(body, ["Disable", "Cancel"])
    body = _german(client, reverse("apikeys:delete", kwargs=kwargs))
    assert "Orders löschen?" in body
    _no_english(body, ["Delete", "Cancel", "This cannot be undone."])


def test_the_get_started_and_scopes_pages_speak_german(client_for, alice, acme, custom):
    client = client_for(alice)
    kwargs = {"code": "acme", "key_id": custom.public_id}
    body = _german(client, reverse("apikeys:get_started", kwargs=kwargs))
    assert "Erste Schritte mit Orders" in body and "Ausprobieren" in body and "Codebeispiel" in body
    _no_english(body, ["Get started with", "This key", "Token service", "Try it", "Copy", "Back to API keys"])
    body = _german(client, reverse("apikeys:scopes", kwargs=kwargs))
    assert "Was Orders darf" in body
    _no_english(body, ["What Orders can do", "Back to API keys", "operations", "scopes"])


def test_a_keys_settings_page_speaks_german(client_for, alice, acme, custom):
    key_rate_limit_set(key=custom, limit=1, period="second")
    body = _german(client_for(alice), reverse("apikeys:settings", kwargs={"code": "acme", "key_id": custom.public_id}))
    for word in [
        "Einstellungen von Orders",
        "Ratenlimit: 1 Anfrage pro Sekunde",
        "Erlaubte Netzwerke",
        "Einstellungen speichern",
        "10.000 pro Sekunde",
    ]:
        assert word in body, word
    _no_english(
        body, ["Enabled", "Allowed networks", "Rate limit", "Save settings", "Cancel", "per second", "What it is for"]
    )


def test_a_bulk_confirmation_speaks_german(client_for, alice, acme, custom):
    emporix = ApiKey.objects.get(tenant=acme, kind=KeyKind.EMPORIX)
    url = reverse("apikeys:bulk", kwargs={"code": "acme"})
    body = _german(client_for(alice), url + f"?action=disable&key={emporix.public_id}&key={custom.public_id}")
    assert "2 Schlüssel deaktivieren?" in body and "Das betrifft auch den Schlüssel Emporix API des Mandanten:" in body
    _no_english(body, ["Disable", "This includes", "Cancel"])


def test_the_javascript_catalog_has_the_keys_scripts_words_in_german(client):
    catalog = client.get(reverse("javascript-catalog", kwargs={"language": "de"})).content.decode()
    for german in [
        "Kopiert",
        "Secret angezeigt",
        "Secret verborgen",
        "Scopes gewählt",
        "Kopieren fehlgeschlagen",
        "gerade eben",
        "vor %(count)s Tagen",
    ]:
        assert json.dumps(german)[1:-1] in catalog, german  # as the catalog writes it (\u00e4 for ä)


def test_a_refused_settings_form_says_why_in_german(client_for, alice, acme, custom):
    url = reverse("apikeys:settings", kwargs={"code": "acme", "key_id": custom.public_id})
    past = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    body = _german(
        client_for(alice),
        url,
        method="post",
        data={"allowed_networks": "203.0.113.5/24", "allowed_origins": "shop.example.com", "expires_at": past},
        status=400,
    )
    for german in [
        "Bei „203.0.113.5/24“ sind Host-Bits gesetzt; meinten Sie 203.0.113.0/24?",
        "braucht ein Schema: http:// oder https://",
        "Das Ablaufdatum muss in der Zukunft liegen.",
    ]:
        assert escape(german) in body, german
    _no_english(body, ["has host bits set", "needs a scheme", "The expiry date must be in the future."])


def test_the_catalogues_english_names_are_marked_english_on_german_pages_only(client_for, alice, acme, custom):
    """Service names and scope descriptions come from the catalogue in English: a German page
    marks them lang="en" (screen readers say them as English); the English page is unchanged."""
    client = client_for(alice)
    for url in [
        reverse("apikeys:create", kwargs={"code": "acme"}),
        reverse("apikeys:scopes", kwargs={"code": "acme", "key_id": custom.public_id}),
        reverse("apikeys:list", kwargs={"code": "acme"}),
    ]:
        assert '<span lang="en">Tax Service</span>' in _german(client, url), url
        assert 'lang="en"' not in client.get(url).content.decode().replace('<html lang="en">', ""), url
