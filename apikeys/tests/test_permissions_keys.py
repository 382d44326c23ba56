"""Every URL of the keys page × every role × logged out → the expected status. A new view
without a row here stands out."""

from datetime import timedelta

import pytest
from django.urls import reverse

from apikeys.models import ApiSecret
from apikeys.services import key_renew

pytestmark = pytest.mark.django_db

# (url name, method, {role: status}); "out" is logged out, "stranger" a member of another tenant.
TABLE = [
    ("list", "get", {"admin": 200, "developer": 200, "viewer": 200, "stranger": 404, "out": 302}),
    ("secret", "post", {"admin": 200, "developer": 200, "viewer": 403, "stranger": 404, "out": 302}),
    ("secret", "get", {"admin": 405, "developer": 405, "viewer": 405, "stranger": 405, "out": 302}),
    ("renew", "get", {"admin": 200, "developer": 403, "viewer": 403, "stranger": 404, "out": 302}),
    ("renew", "post", {"admin": 302, "developer": 403, "viewer": 403, "stranger": 404, "out": 302}),
    ("retire", "get", {"admin": 200, "developer": 403, "viewer": 403, "stranger": 404, "out": 302}),
    ("retire", "post", {"admin": 302, "developer": 403, "viewer": 403, "stranger": 404, "out": 302}),
]
ROLES = ["admin", "developer", "viewer", "stranger", "out"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "method", "expected"), TABLE, ids=[f"{n}-{m}" for n, m, _ in TABLE])
def test_status_by_role(client, alice, dave, bob, charlie, globex, acme_secrets, role, name, method, expected):
    key, _ = acme_secrets["emporix"]
    key_renew(key=key, grace=timedelta(hours=1))
    old = ApiSecret.objects.get(key=key, expires_at__isnull=False)
    kwargs = {"code": "acme"}
    if name != "list":
        kwargs["key_id"] = key.public_id
    if name == "retire":
        kwargs["secret_id"] = old.public_id
    user = {"admin": alice, "developer": dave, "viewer": bob, "stranger": charlie, "out": None}[role]
    if user:
        client.force_login(user)
    response = getattr(client, method)(reverse(f"apikeys:{name}", kwargs=kwargs), {"grace": "1h"})
    assert response.status_code == expected[role]
