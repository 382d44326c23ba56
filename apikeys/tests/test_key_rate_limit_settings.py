"""A key's rate limit in the portal: admins set it on the key's settings page (any kind of key),
with clear errors for what is out of bounds; the key's row and page say it in words, the page
with how often it was reached (from the usage roll-ups, in a constant number of queries); each
change is an activity entry."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from activity.display import details_lines
from activity.models import Action, ActivityEntry
from apikeys import limits
from apikeys.models import ApiKey, KeyKind
from apikeys.services import key_create, key_rate_limit_set
from kernel.usage import ISSUED, KEY_RATE_LIMITED, OPERATION_TOKEN
from scopes.models import Scope
from usage.models import HourUsage, MinuteUsage

pytestmark = pytest.mark.django_db


def _custom(acme, name="Orders"):
    return key_create(tenant=acme, kind=KeyKind.CUSTOM, name=name, scopes=Scope.objects.filter(name="tax.tax_read"))


def _settings(key):
    return reverse("apikeys:settings", kwargs={"code": key.tenant.code, "key_id": key.public_id})


def _card(client, key) -> str:
    body = client.get(reverse("apikeys:list", kwargs={"code": key.tenant.code})).content.decode()
    card = body[body.index(f'id="key-{key.public_id}"') :]
    return card[: card.index("</article>")]


def test_an_admin_sets_a_limit_and_it_is_shown_and_recorded(client_for, alice, acme):
    key, _ = _custom(acme)
    client = client_for(alice)
    page = client.get(_settings(key)).content.decode()
    assert "Rate limit (requests)" in page and "per second" in page and "per minute" in page
    response = client.post(_settings(key), {"allowed_networks": "", "rate_limit": "10", "rate_limit_period": "second"})
    assert response.status_code == 302
    key.refresh_from_db()
    assert (key.rate_limit, key.rate_limit_period) == (10, "second")
    assert "Rate limit: 10 requests per second" in _card(client, key)
    page = client.get(_settings(key)).content.decode()
    assert "Rate limit: 10 requests per second, for token requests and for API calls each." in page
    assert "Requests refused by its rate limit: 0 in the last 24 hours, 0 in the last 30 days." in page
    entry = ActivityEntry.objects.filter(key=key, action=Action.KEY_CHANGED).latest("pk")
    assert entry.details == {"rate_limit": {"from": None, "to": "10 requests per second"}}
    assert entry.actor_email == "alice@example.com"
    assert details_lines(entry) == ["Rate limit: none → “10 requests per second”"]  # as the activity page says it

    response = client.post(_settings(key), {"allowed_networks": "", "rate_limit": "", "rate_limit_period": "second"})
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.rate_limit is None
    assert "Rate limit" not in _card(client, key)
    entry = ActivityEntry.objects.filter(key=key, action=Action.KEY_CHANGED).latest("pk")
    assert entry.details == {"rate_limit": {"from": "10 requests per second", "to": None}}


def test_saving_the_same_limit_writes_no_entry(client_for, alice, acme):
    key, _ = _custom(acme)
    key_rate_limit_set(key=key, limit=5, period="minute")
    before = ActivityEntry.objects.filter(key=key).count()
    response = client_for(alice).post(
        _settings(key), {"allowed_networks": "", "rate_limit": "5", "rate_limit_period": "minute"}
    )
    assert response.status_code == 302
    assert ActivityEntry.objects.filter(key=key).count() == before


@pytest.mark.parametrize("kind", [KeyKind.EMPORIX, KeyKind.STOREFRONT])
def test_the_built_in_keys_take_a_limit_too(client_for, alice, acme, kind):
    key = ApiKey.objects.get(tenant=acme, kind=kind)
    response = client_for(alice).post(
        _settings(key), {"allowed_networks": "", "rate_limit": "1", "rate_limit_period": "minute"}
    )
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.rate_limit_text == "1 request per minute"


@pytest.mark.parametrize(
    ("limit", "period", "message"),
    [
        ("0", "minute", "A rate limit is at least 1 request; leave it empty for no limit."),
        ("-3", "second", "A rate limit is at least 1 request; leave it empty for no limit."),
        ("ten", "minute", "Enter a whole number."),
        ("10001", "second", "A rate limit per second is at most 10,000 requests."),
        ("600001", "minute", "A rate limit per minute is at most 600,000 requests."),
        ("10", "hour", "Choose per second or per minute."),
    ],
)
def test_a_limit_out_of_bounds_gets_a_form_error_and_changes_nothing(client_for, alice, acme, limit, period, message):
    key, _ = _custom(acme)
    response = client_for(alice).post(
        _settings(key), {"allowed_networks": "203.0.113.0/24", "rate_limit": limit, "rate_limit_period": period}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    key.refresh_from_db()
    assert (key.rate_limit, key.allowed_networks) == (None, "")


def test_the_service_refuses_what_the_form_refuses(acme):
    key, _ = _custom(acme)
    for limit, period in ((0, "minute"), (10_001, "second"), (5, "hour")):
        with pytest.raises(ValueError):
            key_rate_limit_set(key=key, limit=limit, period=period)
    key.refresh_from_db()
    assert key.rate_limit is None


def _rollup(table, key, outcome, calls, ago):
    table.objects.create(
        bucket=timezone.now() - ago,
        tenant=key.tenant,
        key=key,
        secret_id=None,
        operation=OPERATION_TOKEN,
        outcome=outcome,
        calls=calls,
    )


def test_the_page_says_how_often_the_limit_was_reached(client_for, alice, acme):
    key, _ = _custom(acme)
    other, _ = _custom(acme, "Other")
    key_rate_limit_set(key=key, limit=5, period="second")
    _rollup(MinuteUsage, key, KEY_RATE_LIMITED, 3, timedelta(hours=2))
    _rollup(MinuteUsage, key, KEY_RATE_LIMITED, 4, timedelta(hours=3))
    _rollup(MinuteUsage, key, KEY_RATE_LIMITED, 100, timedelta(hours=30))  # older than a day
    _rollup(MinuteUsage, key, ISSUED, 50, timedelta(hours=1))  # not a refusal
    _rollup(MinuteUsage, other, KEY_RATE_LIMITED, 9, timedelta(hours=1))  # another key
    _rollup(HourUsage, key, KEY_RATE_LIMITED, 7, timedelta(hours=2))
    _rollup(HourUsage, key, KEY_RATE_LIMITED, 20, timedelta(days=10))
    _rollup(HourUsage, key, KEY_RATE_LIMITED, 1000, timedelta(days=31))  # older than 30 days
    page = client_for(alice).get(_settings(key)).content.decode()
    assert "Requests refused by its rate limit: 7 in the last 24 hours, 27 in the last 30 days." in page


def test_a_key_whose_limit_was_removed_still_shows_its_refusals(client_for, alice, acme):
    key, _ = _custom(acme)
    _rollup(HourUsage, key, KEY_RATE_LIMITED, 2, timedelta(days=2))
    page = client_for(alice).get(_settings(key)).content.decode()
    assert "Rate limit:" not in page
    assert "Requests refused by its rate limit: 0 in the last 24 hours, 2 in the last 30 days." in page


def test_refusals_are_read_in_two_queries_for_any_number_of_keys(acme, django_assert_num_queries):
    keys = [_custom(acme, f"Key {number}")[0] for number in range(30)]
    for key in keys:
        _rollup(MinuteUsage, key, KEY_RATE_LIMITED, key.pk % 5 + 1, timedelta(minutes=5))
        _rollup(HourUsage, key, KEY_RATE_LIMITED, key.pk % 5 + 1, timedelta(minutes=5))
    with django_assert_num_queries(2):
        one = limits.reached([keys[0].pk], timezone.now())
    with django_assert_num_queries(2):
        many = limits.reached([key.pk for key in keys], timezone.now())
    assert one == {keys[0].pk: limits.Reached(keys[0].pk % 5 + 1, keys[0].pk % 5 + 1)}
    assert many == {key.pk: limits.Reached(key.pk % 5 + 1, key.pk % 5 + 1) for key in keys}


def test_the_settings_page_costs_the_same_queries_with_a_limit(client_for, alice, acme, django_assert_num_queries):
    key, _ = _custom(acme)
    client = client_for(alice)
    client.get(_settings(key))
    with CaptureQueriesContext(connection) as plain:
        client.get(_settings(key))
    key_rate_limit_set(key=key, limit=5, period="minute")
    _rollup(HourUsage, key, KEY_RATE_LIMITED, 2, timedelta(days=2))
    with django_assert_num_queries(len(plain.captured_queries)):
        assert "2 in the last 30 days" in client.get(_settings(key)).content.decode()
