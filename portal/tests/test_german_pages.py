"""The main pages in German (issue 23): rendered for a user whose language is German, they show
none of the English interface words below. The words are ones German never uses as they are
(not "Name", "Details", "Status", "Token" or product names such as "Storefront API"); a
translation that is missing shows up as one of them. Code samples, `lang="en"` text (the
language switch's "English") and what users typed are not interface text and are skipped."""

import re
from html.parser import HTMLParser

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import translation

from apikeys.models import KeyKind
from apikeys.services import key_create
from scopes.models import Scope
from webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db

ENGLISH = [
    "Sign in",
    "Log in",
    "Log out",
    "Settings",
    "Members",
    "Delete",
    "Renew",
    "Copy",
    "Save",
    "Cancel",
    "Usage",
    "Expires",
    "Expired",
    "Last used",
    "Created",
    "Disable",
    "Enable",
    "Show",
    "Hide",
    "Back",
    "Search",
    "Remove",
    "Invite",
    "Activity",
    "Tenant",
    "Client ID",
    "Password",
    "Error",
    "Try again",
    "Not found",
    "My Account",
    "Confirm",
]
PATTERN = re.compile(r"\b(" + "|".join(re.escape(word) for word in ENGLISH) + r")\b")
# Attributes people read or hear (screen readers), besides the text itself.
SPOKEN = {"aria-label", "title", "placeholder", "alt", "aria-description"}
SKIPPED = {"script", "style", "code", "pre", "textarea", "svg"}
USER_TEXT = {"Acme Corp", "acme", "alice@example.com", "bob@example.com", "dave@example.com"}


class InterfaceText(HTMLParser):
    """The text a person sees or hears on a page: text outside code samples and `lang="en"`
    elements, and the spoken attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, bool]] = []  # (tag, skipped)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        attrs = dict(attrs)
        skipped = (self.stack and self.stack[-1][1]) or tag in SKIPPED or (attrs.get("lang") == "en" and tag != "html")
        if tag not in {"br", "hr", "img", "input", "meta", "link", "source", "wbr", "col", "area", "base"}:
            self.stack.append((tag, bool(skipped)))
        if not skipped:
            self.parts += [value for name, value in attrs.items() if name in SPOKEN and value]
            if tag == "input" and attrs.get("type") in {"submit", "button"} and attrs.get("value"):
                self.parts.append(attrs["value"])

    def handle_endtag(self, tag) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data) -> None:
        if not (self.stack and self.stack[-1][1]) and data.strip():
            self.parts.append(data.strip())


def english_words(html: str) -> list[str]:
    parser = InterfaceText()
    parser.feed(html)
    found = []
    for part in parser.parts:
        for user_text in USER_TEXT:
            part = part.replace(user_text, "")
        found += [f"{match.group(0)!r} in {part[:80]!r}" for match in PATTERN.finditer(part)]
    return found


@pytest.fixture
def german_alice(client, reauthenticated, alice, acme_secrets, catalogue):
    alice.language = "de"
    alice.save()
    client.force_login(alice)
    return reauthenticated(client)


@pytest.fixture
def keys(acme, acme_secrets):
    scopes = Scope.objects.filter(name__in=["tax.tax_read", "brand.brand_manage"])
    custom, _ = key_create(tenant=acme, kind=KeyKind.CUSTOM, name="Lagersynchronisation", scopes=scopes)
    endpoint_create(tenant=acme, url="https://hooks.example.com/portal", event_types=["key.created"])
    return {"emporix": acme_secrets[KeyKind.EMPORIX][0], "custom": custom}


TENANT = {"code": "acme"}
PAGES = {
    "my account": lambda keys: reverse("my_account"),
    "change password": lambda keys: reverse("password_change"),
    "keys page": lambda keys: reverse("apikeys:list", kwargs=TENANT),
    "key get started": lambda keys: reverse(
        "apikeys:get_started", kwargs={**TENANT, "key_id": keys["emporix"].public_id}
    ),
    "key settings": lambda keys: reverse("apikeys:settings", kwargs={**TENANT, "key_id": keys["custom"].public_id}),
    "key scopes": lambda keys: reverse("apikeys:scopes", kwargs={**TENANT, "key_id": keys["custom"].public_id}),
    "custom key create": lambda keys: reverse("apikeys:create", kwargs=TENANT),
    "members": lambda keys: reverse("tenants:members", kwargs=TENANT),
    "tenants": lambda keys: reverse("tenants:list"),
    "activity": lambda keys: reverse("activity:list", kwargs=TENANT),
    "webhooks": lambda keys: reverse("webhooks:list", kwargs=TENANT),
    "usage": lambda keys: reverse("usage:overview", kwargs=TENANT),
    "key usage": lambda keys: reverse("usage:key", kwargs={**TENANT, "key_id": keys["custom"].public_id}),
    "access advisor": lambda keys: reverse("advisor:findings", kwargs=TENANT),
    "sso settings": lambda keys: reverse("sso:settings", kwargs=TENANT),
    "not found": lambda keys: "/tenants/acme/no-such-page/",
}


@pytest.mark.parametrize("page", PAGES)
def test_the_page_is_german_for_a_german_user(german_alice, keys, page):
    response = german_alice.get(PAGES[page](keys), headers={"accept-language": "en"})
    assert response.status_code in (200, 404), response.status_code
    html = response.content.decode()
    assert '<html lang="de">' in html
    found = english_words(html)
    assert not found, "English interface words:\n" + "\n".join(found)


SIGNED_OUT = {
    "login": "/accounts/login/",
    "password reset": "/accounts/password/reset/",
}


@pytest.mark.parametrize("page", SIGNED_OUT)
def test_the_signed_out_page_is_german_for_a_german_browser(client, page):
    html = client.get(SIGNED_OUT[page], headers={"accept-language": "de"}).content.decode()
    assert '<html lang="de">' in html
    found = english_words(html)
    assert not found, "English interface words:\n" + "\n".join(found)


@pytest.mark.parametrize("template", ["400.html", "403.html", "404.html", "429.html", "500.html", "503.html"])
def test_the_error_page_is_german(template, rf):
    with translation.override("de"):
        html = render_to_string(template, {"retry_after": 30, "retry_after_text": "30 Sekunden"})
    assert '<html lang="de">' in html
    found = english_words(html)
    assert not found, "English interface words:\n" + "\n".join(found)


def test_the_expired_page_is_german(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(reverse("time_zone_set"), {"time_zone": "UTC"}, headers={"accept-language": "de"})
    html = response.content.decode()
    assert response.status_code == 403 and "Diese Seite ist abgelaufen" in html
    found = english_words(html)
    assert not found, "English interface words:\n" + "\n".join(found)


def test_the_checker_finds_english(client):
    html = client.get("/accounts/login/", headers={"accept-language": "en"}).content.decode()
    assert any("'Log in'" in found for found in english_words(html))
    assert english_words('<p lang="en">Log in</p><pre>Save</pre><p>Speichern</p>') == []
    assert english_words('<button aria-label="Delete key">X</button>') != []
