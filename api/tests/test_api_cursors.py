"""The lists' cursor pages (api.base.CursorPage, DRF's CursorPagination): every row once, in
the list's order, ties included; `limit` within its bounds; and any cursor the API did not
issue (an earlier format, a forged position or offset) refused with a 400 problem, never run
and never a 500."""

import base64
import json
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest

from activity.models import Action, ActivityEntry
from api.operators import operator_key_create
from apikeys.services import key_create
from scopes.models import Scope
from tenants.models import Tenant

from .conftest import TARGET_SCOPES, token_for

pytestmark = pytest.mark.django_db

KEYS = "/api/v1/keys/"
ACTIVITY = "/api/v1/activity/"
TENANTS = "/api/v1/tenants/"


def cursor(text: str = "", **tokens: str) -> str:
    """A cursor in the API's format: DRF's query string (`text` as it is, or `tokens` encoded),
    in URL-safe base64 without padding."""
    text = text or urlencode(tokens)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def old_cursor(values: list) -> str:
    """A cursor as the API wrote them before DRF's (base64 JSON of the last row's position)."""
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def walk(api, token, path: str) -> list[dict]:
    """Every result of a list, following next_cursor as a client does (pasted into the URL)."""
    seen, following = [], None
    while True:
        response = api("get", path + (f"&cursor={following}" if following else ""), token)
        assert response.status_code == 200, response.content
        seen += response.json()["results"]
        following = response.json()["next_cursor"]
        if following is None:
            return seen


@pytest.fixture
def keys_token(caller, acme):
    return caller(acme, [*TARGET_SCOPES, "portal.key_read"])[2]


@pytest.fixture
def activity_token(caller, acme):
    return caller(acme, ["portal.activity_read"])[2]


@pytest.fixture
def operator_token(client):
    operator, secret = operator_key_create(name="Signup")
    return token_for(client, operator, secret)


def refused(response) -> bool:
    return response.status_code == 400 and response.json()["type"].endswith(":invalid-cursor")


@pytest.mark.parametrize(
    "forged",
    [
        cursor("p=9223372036854775808"),  # past the id column's range
        cursor("p=-1"),
        cursor("p=True"),
        cursor("p=1.5"),
        cursor("p=+1"),
        cursor("p=01"),
        cursor("p="),
        cursor("p=1&o=2"),  # key pages have unique positions: never an offset
        cursor("o=2"),
        cursor("p=1&r=1"),  # no previous pages
        cursor("p=1&p=2"),
        cursor("x=1"),
        cursor("="),
        "",
        "%%%",
        "cD0x" * 200,  # too long
        old_cursor([1]),
        old_cursor([True]),
    ],
)
def test_a_key_page_refuses_a_cursor_it_did_not_issue(api, keys_token, forged):
    assert refused(api("get", KEYS + "?cursor=" + forged, keys_token))


def test_a_key_pages_cursor_from_before_drf_is_refused_not_read_as_the_first_page(api, acme, keys_token):
    for number in range(3):
        key_create(tenant=acme, kind="custom", name=f"Sync {number}", scopes=Scope.objects.filter(name="tax.tax_read"))
    first = api("get", KEYS + "?limit=2", keys_token).json()
    assert first["next_cursor"] and refused(api("get", KEYS + "?cursor=" + old_cursor([1]), keys_token))
    following = api("get", KEYS + "?limit=2&cursor=" + first["next_cursor"], keys_token).json()["results"]
    assert {key["id"] for key in following}.isdisjoint(key["id"] for key in first["results"])


@pytest.mark.parametrize(
    "forged",
    [
        old_cursor(["2026-11-27T16:51:07.123456+00:00", 12]),
        cursor(p="2026-11-27 16:51:07.123456"),  # naive
        cursor(p="2026-11-27 17:51:07.123456+01:00"),  # the API writes times in UTC
        cursor(p="0001-01-01 00:00:00+05:00"),  # before year 1 in UTC
        cursor(p="9999-12-31 23:59:59-05:00"),  # after year 9999 in UTC
        cursor(p="2026-11-27T16:51:07.123456+00:00"),  # not as the API writes it
        cursor(p="2026-13-01 00:00:00+00:00"),
        cursor(p="yesterday"),
        cursor(p="2026-11-27 16:51:07.123456+00:00", o="1001"),  # past DRF's offset cut-off
        cursor(p="2026-11-27 16:51:07.123456+00:00", o="-1"),
        cursor(p="2026-11-27 16:51:07.123456+00:00", r="1"),
    ],
)
def test_an_activity_page_refuses_a_cursor_it_did_not_issue(api, activity_token, forged):
    assert refused(api("get", ACTIVITY + "?cursor=" + forged, activity_token))


def test_an_activity_page_takes_a_cursor_as_it_issues_them(api, activity_token):
    position = cursor(p="2026-11-27 16:51:07.123456+00:00", o="3")
    assert api("get", ACTIVITY + "?cursor=" + position, activity_token).status_code == 200


def test_activity_pages_give_each_entry_once_in_order_when_many_share_a_moment(api, acme, activity_token):
    """DRF's positions are the time of an entry; entries of the same moment are told apart by
    their id, and a page boundary among them by an offset in the cursor."""
    moment = datetime(2026, 11, 27, 16, 51, 7, 123456, tzinfo=UTC)
    ActivityEntry.objects.bulk_create(
        ActivityEntry(tenant=acme, action=Action.KEY_CHANGED, key_name=f"K{n}", created_at=moment) for n in range(130)
    )
    expected = list(
        ActivityEntry.objects.filter(tenant=acme).order_by("-created_at", "-id").values_list("key_name", flat=True)
    )
    for limit in (1, 7, 50, 100):
        seen = walk(api, activity_token, f"{ACTIVITY}?limit={limit}")
        assert [entry["key_name"] for entry in seen] == expected, limit


def test_tenant_pages_follow_the_code_and_refuse_a_forged_one(api, operator_token):
    for number in range(5):
        Tenant.objects.create(code=f"shop{number}", name=f"Shop {number}")
    codes = [tenant["code"] for tenant in walk(api, operator_token, f"{TENANTS}?limit=2")]
    assert codes == sorted(Tenant.objects.filter(is_operator=False).values_list("code", flat=True))
    assert len(codes) == 5
    for forged in (cursor("p=" + "x" * 17), cursor("p=Shop 1"), cursor("p=shop1&r=1"), old_cursor(["shop1"])):
        assert refused(api("get", f"{TENANTS}?cursor={forged}", operator_token))


@pytest.mark.parametrize("limit", ["0", "101", "-1", "1.5", "abc", "", "²", "٣", " 5"])
def test_a_limit_out_of_bounds_is_a_400_naming_it(api, keys_token, activity_token, limit):
    for path, token in ((KEYS, keys_token), (ACTIVITY, activity_token)):
        response = api("get", f"{path}?limit={limit}", token)
        assert response.status_code == 400, (path, limit)
        assert response.json()["type"].endswith(":invalid-request") and "limit" in response.json()["errors"]


def test_a_bad_limit_is_named_before_a_bad_filter(api, activity_token):
    response = api("get", ACTIVITY + "?limit=500&action=nope", activity_token)
    assert response.status_code == 400 and list(response.json()["errors"]) == ["limit"]
