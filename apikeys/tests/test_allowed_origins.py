"""A key's allowed web origins (apikeys/origins.py): what an admin may type, how it is
normalised, how an Origin header is matched, and the settings page with its activity entries."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from activity.models import Action, ActivityEntry
from apikeys.models import ApiKey, KeyKind
from apikeys.origins import MAX_ORIGINS, origin_allowed, origins_clean
from apikeys.services import key_create, key_origins_set
from scopes.models import Scope


def test_origins_are_normalised_as_browsers_send_them():
    text = (
        "HTTPS://Shop.Example.com/\nhttp://127.0.0.2:8123, https://*.Example.org https://bücher.de:443 "
        "http://[0:0::1]:80 https://a.example.com:8443 https://shop.example.com"
    )
    assert origins_clean(text, allow_any=False).split("\n") == [
        "https://shop.example.com",  # lowercase, the trailing slash dropped, listed once
        "http://127.0.0.2:8123",
        "https://*.example.org",
        "https://xn--bcher-kva.de",  # punycode, the default port dropped
        "http://[::1]",
        "https://a.example.com:8443",
    ]
    assert origins_clean(["https://a.example.com", " "], allow_any=False) == "https://a.example.com"
    assert origins_clean("", allow_any=False) == ""


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("shop.example.com", "needs a scheme"),
        ("ftp://shop.example.com", "the scheme must be http or https"),
        ("https://shop.example.com/cart", "no path, query or fragment"),
        ("https://shop.example.com?x=1", "no path, query or fragment"),
        ("https://shop.example.com#top", "no path, query or fragment"),
        ("https://user@shop.example.com", "no user name"),
        ("https://shop.example.com:99999", "port must be a number"),
        ("https://shop.example.com:0", "port must be a number"),
        ("https://*.com", "a wildcard needs a domain of at least two labels"),
        ("https://shop.*.example.com", "only allowed as the first label"),
        ("https://*", "only allowed as the first label"),
        ("https://-bad-.example.com", "host name is not valid"),
        ("*", "only for the Storefront key"),
    ],
)
def test_bad_entries_are_named_with_what_is_wrong(entry, message):
    with pytest.raises(ValidationError) as error:
        origins_clean(f"https://fine.example.com\n{entry}", allow_any=False)
    assert len(error.value.messages) == 1
    assert message in error.value.messages[0]


def test_star_is_for_the_storefront_key_and_the_list_is_bounded():
    assert origins_clean("*\nhttps://a.example.com", allow_any=True) == "*\nhttps://a.example.com"
    too_many = "\n".join(f"https://s{n}.example.com" for n in range(MAX_ORIGINS + 1))
    with pytest.raises(ValidationError, match=f"At most {MAX_ORIGINS} origins"):
        origins_clean(too_many, allow_any=False)


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://shop.example.com", True),
        ("https://a.example.org", True),
        ("https://a.b.example.org", True),
        ("https://example.org", False),  # not a subdomain
        ("https://evil-example.org", False),
        ("https://example.org.evil.io", False),
        ("https://aexample.org", False),
        ("http://a.example.org", False),  # the scheme counts
        ("https://a.example.org:8443", False),  # so does the port
        ("https://shop.example.com:443", True),  # the default port is the same origin
        ("null", False),
        ("", False),
        ("https://shop.example.com/", False),  # not an Origin header's form
        ("*", False),
    ],
)
def test_origin_matching(origin, allowed):
    rules = origins_clean("https://shop.example.com https://*.example.org", allow_any=False)
    assert origin_allowed(origin, rules, honour_any=True) is allowed


def test_star_matches_only_where_it_is_honoured():
    assert origin_allowed("https://x.example", "*", honour_any=True)
    assert not origin_allowed("https://x.example", "*", honour_any=False)
    assert not origin_allowed("https://x.example", "", honour_any=True)


def _settings(key):
    return reverse("apikeys:settings", kwargs={"code": key.tenant.code, "key_id": key.public_id})


def test_the_settings_page_edits_the_origins_with_an_activity_entry(client_for, alice, acme):
    key, _ = key_create(
        tenant=acme, kind=KeyKind.CUSTOM, name="Orders", scopes=Scope.objects.filter(name="tax.tax_read")
    )
    client = client_for(alice)
    assert "Allowed web origins" in client.get(_settings(key)).content.decode()
    response = client.post(
        _settings(key), {"allowed_networks": "", "allowed_origins": "https://Shop.example.com/\nhttps://*.example.org"}
    )
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.allowed_origins == "https://shop.example.com\nhttps://*.example.org"
    entry = ActivityEntry.objects.get(key=key, action=Action.KEY_ORIGINS_CHANGED)
    assert entry.details == {"from": [], "to": ["https://shop.example.com", "https://*.example.org"]}
    assert entry.actor == alice
    # Saving the same list again records nothing; a bad one is a form error and changes nothing.
    client.post(
        _settings(key), {"allowed_networks": "", "allowed_origins": "https://shop.example.com https://*.example.org"}
    )
    assert ActivityEntry.objects.filter(key=key, action=Action.KEY_ORIGINS_CHANGED).count() == 1
    for bad, message in (("https://shop.example.com/cart", "no path"), ("*", "only for the Storefront key")):
        refused = client.post(_settings(key), {"allowed_networks": "", "allowed_origins": bad})
        assert refused.status_code == 400
        assert message in refused.content.decode()
    key.refresh_from_db()
    assert key.allowed_origins == "https://shop.example.com\nhttps://*.example.org"


def test_the_storefront_key_may_list_star_and_the_emporix_key_has_no_origins(client_for, alice, acme):
    client = client_for(alice)
    storefront = ApiKey.objects.get(tenant=acme, kind=KeyKind.STOREFRONT)
    assert client.post(_settings(storefront), {"allowed_networks": "", "allowed_origins": "*"}).status_code == 302
    storefront.refresh_from_db()
    assert storefront.allowed_origins == "*"
    emporix = ApiKey.objects.get(tenant=acme, kind=KeyKind.EMPORIX)
    assert "Allowed web origins" not in client.get(_settings(emporix)).content.decode()
    with pytest.raises(ValueError, match="for servers"):
        key_origins_set(key=emporix, allowed_origins="https://shop.example.com")


def test_the_settings_page_needs_a_recent_authentication(client, alice, acme):
    key = ApiKey.objects.get(tenant=acme, kind=KeyKind.STOREFRONT)
    client.force_login(alice)
    response = client.post(_settings(key), {"allowed_networks": "", "allowed_origins": "https://shop.example.com"})
    assert response.status_code == 302 and response.url.startswith(reverse("account_reauthenticate"))
    key.refresh_from_db()
    assert key.allowed_origins == ""


def test_a_stored_line_that_todays_rules_refuse_matches_nothing_and_fails_nothing():
    stored = "https://shop.example.com\nftp://old.example.com"
    assert origin_allowed("https://shop.example.com", stored, honour_any=True)
    assert not origin_allowed("ftp://old.example.com", stored, honour_any=True)
