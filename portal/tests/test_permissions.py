"""The permission table for the pages not covered by the per-feature tables (tenants,
members, Try it, the token endpoints), and a check that every URL of the portal has a row in
some table, so a new view without one stands out.

Per-feature tables: apikeys/tests/test_permissions_keys.py, test_permissions_custom_keys.py,
activity/tests/test_permissions_activity.py."""

import importlib

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tenants.models import Membership

ROLES = ["admin", "developer", "viewer", "stranger", "out"]
ADMIN_ONLY = {"developer": 403, "viewer": 403, "stranger": 404, "out": 302}
ANY_MEMBER = {"admin": 200, "developer": 200, "viewer": 200, "stranger": 404, "out": 302}

# (url name, method, form data, {role: status}); "stranger" is charlie, admin of globex only.
TABLE = [
    ("home", "get", {}, {"admin": 302, "developer": 302, "viewer": 302, "stranger": 302, "out": 302}),
    ("tenants:list", "get", {}, {"admin": 200, "developer": 200, "viewer": 200, "stranger": 200, "out": 302}),
    ("tenants:members", "get", {}, ANY_MEMBER),
    ("tenants:members", "post", {"email": "new@example.com", "role": "viewer"}, {"admin": 302, **ADMIN_ONLY}),
    ("tenants:member_role", "post", {"role": "developer"}, {"admin": 302, **ADMIN_ONLY}),
    ("tenants:member_role", "get", {}, {"admin": 405, "developer": 405, "viewer": 405, "stranger": 405, "out": 302}),
    ("tenants:member_remove", "post", {}, {"admin": 302, **ADMIN_ONLY}),
    ("oauth:try", "post", {}, {"admin": 200, "developer": 200, "viewer": 403, "stranger": 404, "out": 302}),
    ("oauth:try", "get", {}, {"admin": 405, "developer": 405, "viewer": 405, "stranger": 405, "out": 302}),
]

# Public by design: the token service authenticates clients itself, and the account pages.
PUBLIC = {
    "oauth:token",
    "oauth:introspect",
    "oauth:revoke",
    "oauth:anonymous_login",
    "oauth:anonymous_refresh",
    "oauth:metadata",
    "healthz",
    "readyz",
    "login",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "password_change",
    "password_change_done",
}


def _kwargs(name, acme, bob):
    kwargs = {"code": "acme"}
    if name in {"tenants:member_role", "tenants:member_remove"}:
        kwargs["member_id"] = Membership.objects.get(tenant=acme, user=bob).pk
    if name == "oauth:try":
        kwargs["key_id"] = acme.apikeys.get(kind="emporix").public_id
    return kwargs if name.startswith(("tenants:m", "oauth:")) else {}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "method", "data", "expected"), TABLE, ids=[f"{n}-{m}" for n, m, _, _ in TABLE])
def test_status_by_role(client, alice, dave, bob, charlie, globex, acme, role, name, method, data, expected):
    user = {"admin": alice, "developer": dave, "viewer": bob, "stranger": charlie, "out": None}[role]
    if user:
        client.force_login(user)
    response = getattr(client, method)(reverse(name, kwargs=_kwargs(name, acme, bob)), data)
    assert response.status_code == expected[role]


def _named_urls(patterns, namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            if entry.namespace == "admin":
                continue
            yield from _named_urls(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield namespace + entry.name


def test_every_url_of_the_portal_has_a_row_in_a_permission_table():
    covered = {name for name, *_ in TABLE}
    for module, namespace in [
        ("apikeys.tests.test_permissions_keys", "apikeys:"),
        ("apikeys.tests.test_permissions_custom_keys", "apikeys:"),
        ("activity.tests.test_permissions_activity", ""),
    ]:
        covered |= {namespace + row[0] for row in importlib.import_module(module).TABLE}
    missing = sorted(set(_named_urls(get_resolver().url_patterns)) - covered - PUBLIC)
    assert missing == []


def test_the_favicon_is_public(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response.url.endswith("favicon.svg")
