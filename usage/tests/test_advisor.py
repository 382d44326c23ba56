"""The access advisor (usage/advisor.py, docs/access-advisor.md) on roll-up rows as the flush
writes them: which scopes count as used, the findings, "Narrow to what is used", and the
queries it makes.

The roll-ups are created directly: the flush's result is exactly these rows."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from activity.models import Action, ActivityEntry
from apikeys.models import ApiKey, KeyKind
from apikeys.services import key_create
from kernel.usage import ALLOWED, INSUFFICIENT_SCOPE
from scopes.models import PORTAL_SERVICE_KEY, Scope
from scopes.routes import route_table
from usage.advisor import (
    DORMANT,
    NEVER_USED,
    NO_GATEWAY_CALLS,
    UNUSED_SCOPES,
    advise,
    key_advice,
    keys_for_advice,
    tenant_findings,
)
from usage.models import DayUsage

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def day(days_ago: int) -> datetime:
    return NOW.replace(hour=0, minute=0) - timedelta(days=days_ago)


def called(key: ApiKey, operation: str, calls: int, days_ago: int = 0, outcome: str = ALLOWED) -> None:
    """What the flush writes for `calls` gateway calls of `operation` by `key` that day."""
    DayUsage.objects.create(
        bucket=day(days_ago),
        tenant_id=key.tenant_id,
        key=key,
        secret_id=key.secrets.first().pk,
        operation=operation,
        outcome=outcome,
        calls=calls,
    )


def offered_names(count: int) -> list[str]:
    """`count` scopes a custom key may hold that open at least one operation."""
    table = route_table()
    names = Scope.objects.offered().exclude(service__key=PORTAL_SERVICE_KEY).values_list("name", flat=True)
    return [name for name in names if table.opened_by_scope(name)][:count]


def only_opened_by(name: str, held: set[str]) -> str:
    """An operation that `name` opens and no other scope of `held` does."""
    for route in route_table().opened_by_scope(name):
        if held.intersection(route.any_of_scopes) == {name}:
            return route.operation_id
    raise LookupError(name)


def custom(tenant, names: list[str], name: str = "ERP") -> ApiKey:
    key, _ = key_create(tenant=tenant, kind=KeyKind.CUSTOM, name=name, scopes=Scope.objects.filter(name__in=names))
    return key


def advice_of(key: ApiKey):
    return key_advice(keys_for_advice(key.tenant).get(pk=key.pk), key.tenant)


@pytest.fixture
def forty(acme):
    """The issue's case: a custom key of 40 scopes used through the gateway for 3 of them."""
    names = offered_names(40)
    assert len(names) == 40
    exclusive = []  # (scope, an operation only it opens among the 40)
    for name in names:
        try:
            exclusive.append((name, only_opened_by(name, set(names))))
        except LookupError:
            continue
    used, (old, refused) = exclusive[:3], exclusive[3:5]
    key = custom(acme, names)
    key.last_used_at = NOW
    key.save(update_fields=["last_used_at"])
    for days_ago, (_, operation) in zip((0, 12, 45), used, strict=True):
        called(key, operation, 7, days_ago)
    # Calls older than 90 days and refused calls use nothing.
    called(key, old[1], 9, days_ago=90)
    called(key, refused[1], 50, outcome=INSUFFICIENT_SCOPE)
    return key, names, sorted(name for name, _ in used)


def test_it_lists_the_37_scopes_the_key_did_not_use(forty):
    key, names, used = forty
    advice = advice_of(key)
    assert advice.finding == UNUSED_SCOPES
    assert advice.used_scopes == used
    assert advice.unused_scopes == sorted(set(names) - set(used))
    assert len(advice.unused_scopes) == 37
    assert advice.summary == "37 scopes unused in 90 days"
    assert (advice.calls_30, advice.calls_90) == (14, 21)
    by_name = {scope.name: scope for scope in advice.scopes}
    assert {by_name[name].last_used for name in used} == {day(0), day(12), day(45)}


def test_narrow_to_what_is_used_leaves_exactly_the_3(client_for, alice, forty):
    key, names, used = forty
    client = client_for(alice)
    url = reverse("advisor:narrow", kwargs={"code": "acme", "key_id": key.public_id})

    page = client.get(url)
    assert page.status_code == 200
    assert page.context["diff"].removed == sorted(set(names) - set(used))
    assert page.context["diff"].lost_count > 0
    assert "Loses" in page.content.decode()

    response = client.post(url, {"keep": used})
    assert response.status_code == 302
    assert sorted(key.scopes.values_list("name", flat=True)) == used
    entry = ActivityEntry.objects.filter(action=Action.KEY_CHANGED).latest("pk")
    assert entry.details["scopes_removed"] == sorted(set(names) - set(used))
    assert entry.details["scopes_added"] == []
    assert advice_of(key).finding is None


def test_narrowing_refuses_scopes_other_than_those_shown(client_for, alice, forty):
    key, names, used = forty
    url = reverse("advisor:narrow", kwargs={"code": "acme", "key_id": key.public_id})
    response = client_for(alice).post(url, {"keep": used[:2]})
    assert response.status_code == 409
    assert sorted(key.scopes.values_list("name", flat=True)) == sorted(names)


def test_narrowing_needs_a_recent_authentication(client, alice, forty):
    key, names, _ = forty
    client.force_login(alice)
    url = reverse("advisor:narrow", kwargs={"code": "acme", "key_id": key.public_id})
    response = client.post(url, {"keep": forty[2]})
    assert response.status_code == 302 and response.url.startswith(reverse("account_reauthenticate"))
    assert sorted(key.scopes.values_list("name", flat=True)) == sorted(names)
    page = client.get(response.url)
    assert "narrow ERP to the scopes it uses" in page.content.decode()


@pytest.mark.parametrize("user", ["dave", "bob"])
def test_a_developer_or_viewer_cannot_narrow_but_sees_the_finding(client_for, request, user, forty):
    key, names, _ = forty
    client = client_for(request.getfixturevalue(user))
    url = reverse("advisor:narrow", kwargs={"code": "acme", "key_id": key.public_id})
    assert client.get(url).status_code == 403
    assert client.post(url, {"keep": forty[2]}).status_code == 403
    assert sorted(key.scopes.values_list("name", flat=True)) == sorted(names)
    page = client.get(reverse("advisor:key", kwargs={"code": "acme", "key_id": key.public_id}))
    assert page.status_code == 200
    html = page.content.decode()
    assert "37 scopes unused in 90 days" in html and "Narrow to what is used" not in html
    unused = html.split("The 37 unused scopes</summary>")[1].split("</details>")[0]
    assert sorted(re.findall(r"<code>([^<]+)</code>", unused)) == sorted(set(names) - set(forty[2]))


def test_it_404s_for_another_tenants_key(client_for, charlie, forty):
    key, *_ = forty
    client = client_for(charlie)
    for name in ("advisor:key", "advisor:narrow"):
        assert client.get(reverse(name, kwargs={"code": "acme", "key_id": key.public_id})).status_code == 404
    other = reverse("advisor:key", kwargs={"code": "globex", "key_id": key.public_id})
    assert client.get(other).status_code == 404


def test_an_operation_two_scopes_open_counts_for_the_narrowest(acme):
    """POST-category-tree-create-category accepts category_manage and category_publish: with
    both held and no other call, its calls count for the one opening fewer operations."""
    route = next(r for r in route_table().routes if r.operation_id == "POST-category-tree-create-category")
    assert set(route.any_of_scopes) >= {"category.category_manage", "category.category_publish"}
    key = custom(acme, ["category.category_manage", "category.category_publish"])
    called(key, route.operation_id, 5)
    advice = advice_of(key)
    table = route_table()
    narrowest = min(
        ("category.category_manage", "category.category_publish"), key=lambda n: len(table.opened_by_scope(n))
    )
    assert advice.used_scopes == [narrowest]
    unused = next(scope for scope in advice.scopes if not scope.used)
    assert unused.covered_by == (narrowest,)


def test_a_scope_another_call_needs_serves_a_shared_operation(acme):
    """When one call needs category_manage alone, an operation category_publish also opens
    counts for category_manage too: keeping one scope is enough for both."""
    table = route_table()
    shared = "POST-category-tree-create-category"
    manage_only = next(
        r.operation_id
        for r in table.opened_by_scope("category.category_manage")
        if "category.category_publish" not in r.any_of_scopes
    )
    key = custom(acme, ["category.category_manage", "category.category_publish"])
    called(key, shared, 5)
    called(key, manage_only, 1)
    assert advice_of(key).used_scopes == ["category.category_manage"]


def test_a_read_scope_is_kept_over_a_manage_scope(acme):
    """An operation both a read and a manage scope open, with nothing else called: the read
    scope is the narrower and is kept."""
    table = route_table()
    route = next(
        r
        for r in table.routes
        if any(n.endswith("_read") for n in r.any_of_scopes) and any(n.endswith("_manage") for n in r.any_of_scopes)
    )
    read = next(n for n in route.any_of_scopes if n.endswith("_read"))
    manage = next(n for n in route.any_of_scopes if n.endswith("_manage"))
    key = custom(acme, [read, manage])
    called(key, route.operation_id, 3)
    assert advice_of(key).used_scopes == [read]


def test_a_never_used_key_joins_the_findings(acme):
    key = custom(acme, offered_names(2), name="Never")
    advice = advice_of(key)
    assert advice.finding == NEVER_USED and not advice.can_narrow
    assert key.pk in {a.key.pk for a in tenant_findings(acme)}


def test_a_dormant_key_joins_the_findings(acme):
    names = offered_names(2)
    key = custom(acme, names, name="Sleepy")
    operation = only_opened_by(names[0], set(names))
    called(key, operation, 4, days_ago=120)
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=NOW - timedelta(days=120))
    advice = advice_of(key)
    assert advice.finding == DORMANT
    assert advice.summary == "Dormant: no successful use in 90 days"
    # The tenant's threshold is the keys app's (Tenant.dormant_after_days).
    acme.dormant_after_days = 180
    acme.save(update_fields=["dormant_after_days"])
    assert advice_of(key).finding == NO_GATEWAY_CALLS


def test_a_key_used_only_for_tokens_is_not_said_to_use_nothing(acme):
    key = custom(acme, offered_names(3), name="Tokens only")
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=NOW - timedelta(hours=1))
    advice = advice_of(key)
    assert advice.finding == NO_GATEWAY_CALLS and not advice.can_narrow


def test_a_built_in_key_is_offered_a_custom_key_instead(client_for, alice, acme):
    emporix = ApiKey.objects.get(tenant=acme, kind=KeyKind.EMPORIX)
    names = offered_names(40)
    operation = only_opened_by(names[0], set(Scope.objects.values_list("name", flat=True)))
    ApiKey.objects.filter(pk=emporix.pk).update(last_used_at=NOW)
    called(emporix, operation, 2)
    client = client_for(alice)
    html = client.get(reverse("advisor:key", kwargs={"code": "acme", "key_id": emporix.public_id})).content.decode()
    assert "Create a custom key with this scope" in html
    create = reverse("apikeys:create", kwargs={"code": "acme"}) + f"?scope={names[0]}"
    assert create in html
    assert (
        client.get(reverse("advisor:narrow", kwargs={"code": "acme", "key_id": emporix.public_id})).status_code == 404
    )
    # The create form comes with the scope ticked.
    form = client.get(create)
    assert form.status_code == 200 and form.context["chosen"] == {names[0]}


@pytest.mark.parametrize("view", ["cards", "table"])
def test_the_key_list_links_each_key_to_its_advice(client_for, bob, forty, view):
    key, *_ = forty
    html = client_for(bob).get(reverse("apikeys:list", kwargs={"code": "acme"}) + f"?view={view}").content.decode()
    assert reverse("advisor:key", kwargs={"code": "acme", "key_id": key.public_id}) in html
    assert reverse("advisor:findings", kwargs={"code": "acme"}) in html


def test_the_findings_page_lists_the_keys_to_look_at(client_for, bob, forty):
    key, *_ = forty
    html = client_for(bob).get(reverse("advisor:findings", kwargs={"code": "acme"})).content.decode()
    assert reverse("advisor:key", kwargs={"code": "acme", "key_id": key.public_id}) in html
    assert "37 scopes unused in 90 days" in html
    assert "Never used" in html  # acme's Storefront key, never used


def _many_keys(tenant, count: int) -> None:
    """`count` more custom keys of 8 scopes each, each used for one of them."""
    names = offered_names(40)
    exclusive = [(name, op) for name in names if (op := _exclusive(name, set(names)))][:12]
    start = ApiKey.objects.filter(tenant=tenant).count()
    for index in range(count):
        held = exclusive[index % 4 : index % 4 + 8]
        key = custom(tenant, [name for name, _ in held], name=f"Key {start + index}")
        called(key, held[0][1], index + 1)


def _exclusive(name: str, held: set[str]) -> str | None:
    try:
        return only_opened_by(name, held)
    except LookupError:
        return None


def test_the_advice_makes_as_many_queries_for_many_keys_as_for_one(acme, django_assert_num_queries):
    _many_keys(acme, 1)
    advise(keys_for_advice(acme), acme)  # the built-in keys' scope lists are cached per process
    with django_assert_num_queries(3):
        one = advise(keys_for_advice(acme), acme)
    _many_keys(acme, 30)
    with django_assert_num_queries(3):
        many = advise(keys_for_advice(acme), acme)
    assert len(many) == len(one) + 30


@pytest.mark.parametrize("name", ["advisor:findings", "advisor:key", "advisor:narrow"])
def test_the_pages_make_a_constant_number_of_queries(client_for, alice, acme, forty, name, django_assert_num_queries):
    key, *_ = forty
    client = client_for(alice)
    kwargs = {"code": "acme"} if name == "advisor:findings" else {"code": "acme", "key_id": key.public_id}
    url = reverse(name, kwargs=kwargs)
    client.get(url)  # warm: the session, the built-in keys' scope lists
    with django_assert_num_queries(PAGE_QUERIES[name]):
        assert client.get(url).status_code == 200
    _many_keys(acme, 20)
    with django_assert_num_queries(PAGE_QUERIES[name]):
        assert client.get(url).status_code == 200


# The session and user (2), the membership (1), the advisor's keys, scopes and roll-ups (3), and
# the header's tenant switcher (1); the narrowing page's scope diff reads only the route table,
# and the findings list (summaries) needs no scope rows.
PAGE_QUERIES = {"advisor:findings": 6, "advisor:key": 7, "advisor:narrow": 7}


def test_the_findings_list_pages_by_fifty(client_for, bob, acme):
    names = offered_names(1)
    for index in range(53):
        custom(acme, names, name=f"Idle {index:02}")
    client = client_for(bob)
    url = reverse("advisor:findings", kwargs={"code": "acme"})
    first = client.get(url)
    assert len(first.context["page"].object_list) == 50
    assert first.context["page"].paginator.count == 55  # and the two built-in keys, never used
    assert len(client.get(url + "?page=2").context["page"].object_list) == 5
    assert client.get(url + "?page=nonsense").status_code == 200


def test_key_totals_count_each_operation_once(acme):
    """An operation two held scopes of two services open is one operation: its calls count once."""
    route = next(
        r for r in route_table().routes if len({n.split(".")[0] for n in r.any_of_scopes}) > 1 and r.operation_id
    )
    key = custom(acme, list(route.any_of_scopes))
    called(key, route.operation_id, 6)
    advice = advice_of(key)
    assert (advice.calls_30, advice.calls_90) == (6, 6)
    assert len(advice.used_scopes) == 1
