"""Every URL of custom keys and Get started × every role × logged out → the expected status.
A new view without a row here stands out."""

import pytest
from django.urls import reverse

from apikeys.models import KeyKind
from apikeys.services import key_create
from scopes.models import Scope

pytestmark = pytest.mark.django_db

ADMIN_ONLY = {"developer": 403, "viewer": 403, "stranger": 404, "out": 302}
# (url name, method, key: "custom"/"emporix"/None, {role: status})
TABLE = [
    ("create", "get", None, {"admin": 200, **ADMIN_ONLY}),
    ("create", "post", None, {"admin": 302, **ADMIN_ONLY}),
    ("edit", "get", "custom", {"admin": 200, **ADMIN_ONLY}),
    ("edit", "post", "custom", {"admin": 302, **ADMIN_ONLY}),
    ("edit", "get", "emporix", {"admin": 404, **ADMIN_ONLY}),
    ("delete", "get", "custom", {"admin": 200, **ADMIN_ONLY}),
    ("delete", "post", "custom", {"admin": 302, **ADMIN_ONLY}),
    ("delete", "post", "emporix", {"admin": 404, **ADMIN_ONLY}),
    ("get_started", "get", "emporix", {"admin": 200, "developer": 200, "viewer": 200, "stranger": 404, "out": 302}),
    ("get_started", "get", "custom", {"admin": 200, "developer": 200, "viewer": 200, "stranger": 404, "out": 302}),
    ("get_started", "post", "emporix", {"admin": 405, "developer": 405, "viewer": 405, "stranger": 405, "out": 302}),
]
ROLES = ["admin", "developer", "viewer", "stranger", "out"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "method", "which", "expected"), TABLE, ids=[f"{n}-{m}-{k}" for n, m, k, _ in TABLE])
def test_status_by_role(client, alice, dave, bob, charlie, globex, acme, role, name, method, which, expected):
    custom, _ = key_create(
        tenant=acme, kind=KeyKind.CUSTOM, name="Custom", scopes=Scope.objects.filter(name="tax.tax_read")
    )
    keys = {"custom": custom, "emporix": acme.apikeys.get(kind=KeyKind.EMPORIX)}
    kwargs = {"code": "acme"}
    if which:
        kwargs["key_id"] = keys[which].public_id
    user = {"admin": alice, "developer": dave, "viewer": bob, "stranger": charlie, "out": None}[role]
    if user:
        client.force_login(user)
    data = {"name": "Renamed", "scopes": ["tax.tax_read"]} if method == "post" else {}
    response = getattr(client, method)(reverse(f"apikeys:{name}", kwargs=kwargs), data)
    assert response.status_code == expected[role]
