"""Every URL of the activity log × every role × logged out → the expected status."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

ADMIN_ONLY = {"developer": 403, "viewer": 403, "stranger": 404, "out": 302}
TABLE = [
    ("activity:list", "get", {"admin": 200, **ADMIN_ONLY}),
    ("activity:list", "post", {"admin": 405, "developer": 405, "viewer": 405, "stranger": 405, "out": 302}),
    ("activity:csv", "get", {"admin": 200, **ADMIN_ONLY}),
]
ROLES = ["admin", "developer", "viewer", "stranger", "out"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "method", "expected"), TABLE, ids=[f"{n}-{m}" for n, m, _ in TABLE])
def test_status_by_role(client, alice, dave, bob, charlie, globex, acme, role, name, method, expected):
    user = {"admin": alice, "developer": dave, "viewer": bob, "stranger": charlie, "out": None}[role]
    if user:
        client.force_login(user)
    response = getattr(client, method)(reverse(name, kwargs={"code": "acme"}))
    assert response.status_code == expected[role]
