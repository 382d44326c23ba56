"""The management API's permission table: every endpoint × caller → the expected status.

Callers: "none" (no token), "invalid" (a token that is not one), "emporix" (acme's Emporix API
key, which holds every offered scope but no portal.* one), "wrong" (an acme key with a portal
scope, not the one needed), "right" (an acme key with the needed scope and the target key's
scopes), "cross" (globex's key with the same scopes, acting on acme's objects), and for the
operator endpoints "tenant" (a customer tenant's key that holds portal.tenant_manage anyway)
and "operator" (an operator key). Then every tenant endpoint × every Portal API scope (GRANTS:
which scopes open it; any other is 403). A new API URL without a row fails the last test."""

import pytest
from django.urls import reverse

from api.operators import operator_key_create
from api.urls import urlpatterns

from .conftest import TARGET_SCOPES, token_for

CALLERS = ["none", "invalid", "emporix", "wrong", "right", "cross"]
OPERATOR_CALLERS = ["none", "invalid", "emporix", "tenant", "operator"]

KEY_READ, KEY_MANAGE = "portal.key_read", "portal.key_manage"


def tenant_row(ok: int, cross: int) -> dict[str, int]:
    return {"none": 401, "invalid": 401, "emporix": 403, "wrong": 403, "right": ok, "cross": cross}


OPERATOR = {"none": 401, "invalid": 401, "emporix": 403, "tenant": 403}

SSO_BODY = {"issuer_url": "https://login.example.com", "client_id": "portal", "client_secret": "s3cret"}

# (url name, method, body, needed scope, {caller: status})
TABLE = [
    ("api:keys", "get", None, KEY_READ, tenant_row(200, 200)),
    ("api:keys", "post", {"name": "New", "scopes": TARGET_SCOPES}, KEY_MANAGE, tenant_row(201, 201)),
    ("api:key", "get", None, KEY_READ, tenant_row(200, 404)),
    ("api:key", "patch", {"name": "Renamed"}, KEY_MANAGE, tenant_row(200, 404)),
    ("api:key", "delete", None, KEY_MANAGE, tenant_row(204, 404)),
    ("api:key_renew", "post", {"grace_seconds": 3600}, KEY_MANAGE, tenant_row(200, 404)),
    ("api:key_retire_old_secret", "post", {}, KEY_MANAGE, tenant_row(200, 404)),
    ("api:key_reveal", "post", None, "portal.secret_reveal", tenant_row(200, 404)),
    ("api:key_disable", "post", {}, KEY_MANAGE, tenant_row(200, 404)),
    ("api:key_enable", "post", {}, KEY_MANAGE, tenant_row(200, 404)),
    ("api:key_usage", "get", None, KEY_READ, tenant_row(200, 404)),
    ("api:key_access_advice", "get", None, KEY_READ, tenant_row(200, 404)),
    ("api:scopes", "get", None, KEY_READ, tenant_row(200, 200)),
    ("api:members", "get", None, "portal.member_read", tenant_row(200, 200)),
    ("api:member", "patch", {"role": "viewer"}, "portal.member_manage", tenant_row(200, 404)),
    ("api:member", "delete", None, "portal.member_manage", tenant_row(204, 404)),
    ("api:invitations", "get", None, "portal.member_read", tenant_row(200, 200)),
    (
        "api:invitations",
        "post",
        {"email": "new@example.com", "role": "viewer"},
        "portal.member_manage",
        tenant_row(201, 201),
    ),
    ("api:invitation", "delete", None, "portal.member_manage", tenant_row(204, 404)),
    ("api:activity", "get", None, "portal.activity_read", tenant_row(200, 200)),
    ("api:sso", "get", None, "portal.member_read", tenant_row(200, 200)),
    ("api:sso", "put", SSO_BODY, "portal.member_manage", tenant_row(200, 200)),
]
OPERATOR_TABLE = [
    ("api:tenants", "get", None, {**OPERATOR, "operator": 200}),
    (
        "api:tenants",
        "post",
        {"code": "newshop", "name": "New shop", "admin_email": "ops@example.com"},
        {**OPERATOR, "operator": 201},
    ),
    ("api:tenant", "get", None, {**OPERATOR, "operator": 200}),
    ("api:tenant_deactivate", "post", None, {**OPERATOR, "operator": 200}),
]
PUBLIC = {"api:schema", "api:docs", "api:reference"}  # the OpenAPI document, its reference page
# What a caller holds besides the needed scope: giving a role, or acting on a member, needs what
# the role lets its holder do (a viewer sees keys: tenants.grants, api/grants.py); the table
# in test_api_role_grants.py covers the roles above.
POWERS = {
    ("api:member", "patch"): [KEY_READ],
    ("api:member", "delete"): [KEY_READ],
    ("api:invitations", "post"): [KEY_READ],
    ("api:sso", "put"): [KEY_READ],  # its default role, viewer
}


@pytest.fixture
def objects(acme, target, bob, settings):
    """The URL arguments: acme's target key (renewed with a grace period, so it has an old
    secret to retire), bob's membership, an invitation to acme, the tenant acme."""
    from datetime import timedelta

    from apikeys.services import key_renew
    from tenants.services import invitation_send

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    key, _ = target
    key_renew(key=key, grace=timedelta(hours=1))
    invitation = invitation_send(tenant=acme, email="invited@example.com", role="viewer", accept_url="http://x/accept")
    return {"key_id": key.public_id, "email": "bob@example.com", "invitation_id": invitation.public_id, "code": "acme"}


def _url(name: str, objects: dict) -> str:
    params = {
        "api:key": ["key_id"],
        "api:key_renew": ["key_id"],
        "api:key_retire_old_secret": ["key_id"],
        "api:key_reveal": ["key_id"],
        "api:key_access_advice": ["key_id"],
        "api:key_disable": ["key_id"],
        "api:key_enable": ["key_id"],
        "api:key_usage": ["key_id"],
        "api:member": ["email"],
        "api:invitation": ["invitation_id"],
        "api:tenant": ["code"],
        "api:tenant_deactivate": ["code"],
    }.get(name, [])
    return reverse(name, kwargs={p: objects[p] for p in params})


@pytest.mark.django_db
@pytest.mark.parametrize("who", CALLERS)
@pytest.mark.parametrize(("name", "method", "body", "scope", "expected"), TABLE, ids=[f"{r[0]}-{r[1]}" for r in TABLE])
def test_tenant_endpoints(
    client, api, caller, objects, acme, globex, acme_secrets, who, name, method, body, scope, expected
):
    token = {
        "none": lambda: None,
        "invalid": lambda: "akpt_" + "x" * 43,
        "emporix": lambda: token_for(client, *acme_secrets["emporix"]),
        "wrong": lambda: caller(
            acme, [*TARGET_SCOPES, "portal.activity_read" if scope != "portal.activity_read" else KEY_READ]
        )[2],
        "right": lambda: caller(acme, [*TARGET_SCOPES, scope, *POWERS.get((name, method), [])])[2],
        "cross": lambda: caller(globex, [*TARGET_SCOPES, scope, *POWERS.get((name, method), [])])[2],
    }[who]()
    response = api(method, _url(name, objects), token, body)
    assert response.status_code == expected[who], response.content
    assert response["Cache-Control"] == "no-store"
    if response.status_code >= 400:
        assert response["Content-Type"] == "application/problem+json; charset=utf-8"
        assert response.json()["type"].startswith("urn:api-key-portal:problem:")
    if response.status_code == 401:
        assert response["WWW-Authenticate"].startswith("Bearer")
    if who == "cross" and method == "get" and response.status_code == 200:
        # Lists answer with the caller's own tenant: nothing of acme's.
        assert "acme" not in response.content.decode() or name == "api:scopes"
        assert str(objects["key_id"]) not in response.content.decode()
        assert "bob@example.com" not in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("who", OPERATOR_CALLERS)
@pytest.mark.parametrize(
    ("name", "method", "body", "expected"), OPERATOR_TABLE, ids=[f"{r[0]}-{r[1]}" for r in OPERATOR_TABLE]
)
def test_operator_endpoints(client, api, caller, objects, acme, acme_secrets, who, name, method, body, expected):
    def operator():
        key, secret = operator_key_create(name="ops")
        return token_for(client, key, secret)

    token = {
        "none": lambda: None,
        "invalid": lambda: "akpt_" + "x" * 43,
        "emporix": lambda: token_for(client, *acme_secrets["emporix"]),
        "tenant": lambda: caller(acme, ["portal.tenant_manage"])[2],
        "operator": operator,
    }[who]()
    response = api(method, _url(name, objects), token, body)
    assert response.status_code == expected[who], response.content


PORTAL_SCOPES = [
    "portal.key_read",
    "portal.key_manage",
    "portal.secret_reveal",
    "portal.member_read",
    "portal.member_manage",
    "portal.activity_read",
    "portal.tenant_manage",
]
# Which scopes open each tenant endpoint (any one of them will do); every other scope is 403.
GRANTS = {
    ("api:keys", "get"): {KEY_READ, KEY_MANAGE},
    ("api:keys", "post"): {KEY_MANAGE},
    ("api:key", "get"): {KEY_READ, KEY_MANAGE},
    ("api:key", "patch"): {KEY_MANAGE},
    ("api:key", "delete"): {KEY_MANAGE},
    ("api:key_renew", "post"): {KEY_MANAGE},
    ("api:key_retire_old_secret", "post"): {KEY_MANAGE},
    ("api:key_reveal", "post"): {"portal.secret_reveal"},
    ("api:key_disable", "post"): {KEY_MANAGE},
    ("api:key_enable", "post"): {KEY_MANAGE},
    ("api:key_usage", "get"): {KEY_READ, KEY_MANAGE},
    ("api:key_access_advice", "get"): {KEY_READ, KEY_MANAGE},
    ("api:scopes", "get"): {KEY_READ, KEY_MANAGE},
    ("api:members", "get"): {"portal.member_read", "portal.member_manage"},
    ("api:member", "patch"): {"portal.member_manage"},
    ("api:member", "delete"): {"portal.member_manage"},
    ("api:invitations", "get"): {"portal.member_read", "portal.member_manage"},
    ("api:invitations", "post"): {"portal.member_manage"},
    ("api:invitation", "delete"): {"portal.member_manage"},
    ("api:activity", "get"): {"portal.activity_read"},
    ("api:sso", "get"): {"portal.member_read", "portal.member_manage"},
    ("api:sso", "put"): {"portal.member_manage"},
}


@pytest.mark.django_db
@pytest.mark.parametrize("scope", PORTAL_SCOPES)
@pytest.mark.parametrize(("name", "method", "body", "_", "expected"), TABLE, ids=[f"{r[0]}-{r[1]}" for r in TABLE])
def test_each_portal_scope_on_each_endpoint(api, caller, objects, acme, scope, name, method, body, _, expected):
    token = caller(acme, [*TARGET_SCOPES, scope, *POWERS.get((name, method), [])])[2]
    response = api(method, _url(name, objects), token, body)
    assert response.status_code == (expected["right"] if scope in GRANTS[(name, method)] else 403), response.content


def test_every_api_url_has_a_row():
    assert set(GRANTS) == {(row[0], row[1]) for row in TABLE}
    named = {f"api:{p.name}" for p in urlpatterns if p.name}
    covered = {row[0] for row in TABLE} | {row[0] for row in OPERATOR_TABLE}
    assert named - covered - PUBLIC == set()
    assert all(set(row[-1]) == set(CALLERS) for row in TABLE)
    assert all(set(row[-1]) == set(OPERATOR_CALLERS) for row in OPERATOR_TABLE)
