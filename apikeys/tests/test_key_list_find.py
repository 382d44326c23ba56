"""Finding a key among many on the keys page: search, filters, sort and pages, all GET
parameters that a plain form and plain links carry (no JavaScript), and that keep each other."""

import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from apikeys.models import ApiKey, ApiSecret

pytestmark = pytest.mark.django_db
LIST = reverse("apikeys:list", kwargs={"code": "acme"})


def _key(tenant, name, **fields):
    number = ApiKey.objects.count()
    return ApiKey.objects.create(tenant=tenant, kind="custom", name=name, client_id=f"C{number:031d}", **fields)


def _names(body):
    """Key names of the table's rows (pinned or not), in order."""
    return [unescape(name).strip() for name in re.findall(r'<th scope="row" class="key-name">([^<]+)', body)]


def _get(client, query=""):
    response = client.get(LIST + query)
    assert response.status_code == 200
    return response.content.decode()


def _link(body, text):
    """The href of the link (in the table head or the pagination) whose text starts with `text`."""
    match = re.search(rf'<a href="([^"]*)"[^>]*>{re.escape(text)}', body)
    return unescape(match.group(1)) if match else None


@pytest.fixture
def many(acme):
    now = timezone.now()
    keys = {
        "orders": _key(acme, "Orders reader", last_used_at=now - timedelta(days=2)),
        "stale": _key(acme, "Stale importer", last_used_at=now - timedelta(days=40)),
        "never_old": _key(acme, "Never used, old", created_at=now - timedelta(days=100)),
        "never_new": _key(acme, "Never used, new"),
        "beta": _key(acme, "beta sync", last_used_at=now - timedelta(hours=1)),
    }
    for n in range(40):
        _key(
            acme, f"Filler {n:02}", created_at=now - timedelta(days=50, minutes=n), last_used_at=now - timedelta(days=3)
        )
    ApiSecret.objects.create(
        key=keys["stale"], ciphertext=b"-", encryption_key_id="t", digest=bytes(32), expires_at=now + timedelta(hours=1)
    )
    ApiSecret.objects.create(  # expired: no longer an old secret
        key=keys["orders"],
        ciphertext=b"-",
        encryption_key_id="t",
        digest=bytes(32),
        expires_at=now - timedelta(hours=1),
    )
    return keys


def test_it_searches_names_and_client_ids_ignoring_case(client_for, alice, many):
    client = client_for(alice)
    assert _names(_get(client, "?q=ORDERS")) == ["Orders reader"]
    assert _names(_get(client, f"?q={many['beta'].client_id[-6:]}")) == ["beta sync"]
    body = _get(client, "?q=nothing-like-this")
    assert _names(body) == [] and "No key matches" in body


def test_the_kind_filter_finds_built_in_keys_too(client_for, alice, acme_secrets, many):
    client = client_for(alice)
    emporix, _ = acme_secrets["emporix"]
    assert _names(_get(client, f"?q={emporix.client_id}")) == []  # custom keys only by default
    assert _names(_get(client, f"?q={emporix.client_id}&kind=all")) == ["Emporix API"]
    assert _names(_get(client, "?kind=storefront")) == ["Storefront API"]


def test_it_filters_keys_with_an_old_secret(client_for, alice, many):
    assert _names(_get(client_for(alice), "?old=1")) == ["Stale importer"]


def test_it_filters_keys_unused_for_n_days(client_for, alice, many):
    names = _names(_get(client_for(alice), "?unused=30&sort=name"))
    # Last used 40 days ago, or never used and created 100 days ago (and the fillers, used 3 days ago, not).
    assert names == ["Never used, old", "Stale importer"]
    assert len(_names(_get(client_for(alice), "?unused=7"))) == 2


def test_it_sorts_by_name_created_and_last_used_both_ways(client_for, alice, many):
    client = client_for(alice)
    by_name = _names(_get(client, "?q=s&sort=name"))
    assert by_name == sorted(by_name, key=str.lower) and by_name[0] == "beta sync" and len(by_name) == 5
    assert _names(_get(client, "?q=s&sort=-name")) == by_name[::-1]
    assert _names(_get(client, "?sort=-created"))[0] == "beta sync"
    assert _names(_get(client, "?sort=created"))[0] == "Never used, old"
    # Most recently used first; never used last. And the other way round.
    assert _names(_get(client, "?sort=-last_used"))[:2] == ["beta sync", "Orders reader"]
    assert _names(_get(client, "?sort=last_used"))[:2] == ["Never used, new", "Never used, old"]


def test_a_column_header_sorts_and_a_second_click_reverses(client_for, alice, many):
    client = client_for(alice)
    body = _get(client, "?q=e")
    assert '<th scope="col" aria-sort="ascending"><a href="?q=e&amp;sort=-name#custom-keys">Name' in body
    assert _link(body, "Last used") == "?q=e&sort=last_used#custom-keys"
    body = _get(client, "?q=e&sort=last_used")
    assert 'aria-sort="ascending"><a href="?q=e&amp;sort=-last_used#custom-keys">Last used' in body


def test_pages_keep_the_search_filters_and_sort(client_for, alice, many):
    client = client_for(alice)
    body = _get(client, "?q=e&sort=-created&unused=7")  # only 2 match: no pages
    assert 'aria-label="Pages of keys"' not in body
    body = _get(client, "?q=l&sort=-created")
    assert "1–20 of 42 keys found" in body
    following = _link(body, "Next")
    assert parse_qs(urlsplit(following).query) == {"q": ["l"], "sort": ["-created"], "page": ["2"]}
    page2 = _get(client, following.split("#")[0])
    assert "21–40 of 42 keys found" in page2 and len(_names(page2)) == 20
    assert set(_names(page2)).isdisjoint(_names(body))
    assert parse_qs(urlsplit(_link(page2, "Previous")).query) == {"q": ["l"], "sort": ["-created"]}
    # Sorting starts again at the first page but keeps the search.
    assert parse_qs(urlsplit(_link(page2, "Name")).query) == {"q": ["l"]}  # name: the default sort


def test_the_search_form_works_without_javascript(client_for, alice, many):
    body = _get(client_for(alice), "?q=stale&old=1&unused=30&sort=-name&view=table")
    form = body[body.index('<form method="get" action="#custom-keys"') :]
    form = form[: form.index("</form>")]
    assert 'name="q" value="stale"' in form
    assert '<option value="30" selected>' in form and '<option value="-name" selected>' in form
    assert 'name="old" value="1" checked' in form and '<input type="hidden" name="view" value="table">' in form
    assert '<button type="submit" class="button">Find</button>' in form
    assert 'href="?view=table#custom-keys">Clear</a>' in body


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?sort=password", "Sort ignored: not one of its choices."),
        ("?sort=name,-created", "Sort ignored: not one of its choices."),  # one sort, not a list
        ("?kind=secret", "Kind ignored: not one of its choices."),
        ("?unused=12", "Unused for ignored: not one of its choices."),
        ("?unused=-1", "Unused for ignored: not one of its choices."),
        ("?view=graph", "Layout ignored: not one of its choices."),
        ("?q=" + "x" * 101, "Search ignored: longer than 100 characters."),
        ("?q=a%00b", "Search ignored: Null characters are not allowed."),
        ("?kind=%00", "Kind ignored: not one of its choices."),
    ],
)
def test_an_invalid_parameter_is_ignored_and_named(client_for, alice, many, query, message):
    body = _get(client_for(alice), query)
    assert message in body
    assert len(_names(body)) == 20  # the defaults apply: the first page of every custom key


@pytest.mark.parametrize("page", ["0", "-3", "abc", "99999", "1e9", "%00"])
def test_a_bad_page_number_shows_a_page_anyway(client_for, alice, many, page):
    body = _get(client_for(alice), f"?page={page}")
    assert len(_names(body)) in (5, 20)  # the first page, or the last


def test_a_viewer_finds_keys_without_secret_or_admin_controls(client_for, bob, many):
    body = _get(client_for(bob), "?q=orders")
    assert _names(body) == ["Orders reader"]
    key = many["orders"]
    for name in ("secret", "renew", "edit", "delete"):
        assert reverse(f"apikeys:{name}", kwargs={"code": "acme", "key_id": key.public_id}) not in body
    assert reverse("apikeys:get_started", kwargs={"code": "acme", "key_id": key.public_id}) in body
    assert 'aria-label="Copy Client ID of Orders reader"' in body
