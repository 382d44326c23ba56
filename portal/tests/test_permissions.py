"""The permission table (after pretix's test_permissions.py): every named URL of the portal,
by method, × every role → the expected status. It is the one place that says who may do what;
a new view without a row fails test_every_url_of_the_portal_has_a_row.

The roles are played by conftest's cast: alice (admin of acme), dave (developer in acme), bob
(viewer in acme), charlie ("stranger": admin of globex only, so acme's URLs 404 for him) and
"out", logged out, who is sent to the login page. Every logged-in role has authenticated
recently (conftest's `reauthenticated`). URL arguments are filled in by name: the
tenant acme, its custom key (renewed with a grace period, so it has an old secret to retire),
bob's membership and an invitation to acme.

A refusal (403, 404, 405, or the login page for "out") also leaves every row a tenant's pages
can change as it was, so that the views' own tests need not repeat the table's rows."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import User
from activity.models import ActivityEntry
from api import urls as api_urls
from apikeys.models import ApiKey, ApiSecret
from notifications.models import OptOut
from oauth.models import AccessToken
from sso.models import ClaimedDomain, Connection
from tenants.models import Invitation, Membership, Tenant
from webhooks.models import Delivery, Endpoint

ROLES = ["admin", "developer", "viewer", "stranger", "out"]
CAST = {"admin": "alice", "developer": "dave", "viewer": "bob", "stranger": "charlie"}

ANY_MEMBER = {"admin": 200, "developer": 200, "viewer": 200, "stranger": 404, "out": 302}
SEES_SECRETS = {"admin": 200, "developer": 200, "viewer": 403, "stranger": 404, "out": 302}
ADMIN_ONLY = {"developer": 403, "viewer": 403, "stranger": 404, "out": 302}  # with the admin's status
WRONG_METHOD = {"admin": 405, "developer": 405, "viewer": 405, "stranger": 405, "out": 302}
KEY_FORM = {"name": "Renamed", "scopes": ["tax.tax_read"]}
BULK_FORM = {"action": "disable", "scope": "matching"}  # every custom key
WEBHOOK_FORM = {"url": "https://hooks.example.com/keys", "event_types": ["key.created"]}
SSO_FORM = {
    "issuer_url": "https://login.example.com/realms/acme",
    "client_id": "portal",
    "client_secret": "provider-secret",
    "scopes": "openid email",
    "email_claim": "email",
    "mfa_policy": "portal",
}

# (url name, method, form data, {role: status})
TABLE = [
    ("home", "get", {}, {"admin": 302, "developer": 302, "viewer": 302, "stranger": 302, "out": 302}),
    ("tenants:list", "get", {}, {"admin": 200, "developer": 200, "viewer": 200, "stranger": 200, "out": 302}),
    # TENANT_CREATORS=staff-and-admins (the default): admins of a tenant (charlie is globex's).
    (
        "tenants:list",
        "post",
        {"code": "shop1", "name": "Shop"},
        {"admin": 302, "developer": 403, "viewer": 403, "stranger": 302, "out": 302},
    ),
    ("tenants:members", "get", {}, ANY_MEMBER),
    ("tenants:members", "post", {}, WRONG_METHOD),
    ("tenants:policy", "post", {}, {"admin": 302, **ADMIN_ONLY}),
    ("tenants:policy", "get", {}, WRONG_METHOD),
    ("tenants:member_add", "post", {"email": "new@example.com", "role": "viewer"}, {"admin": 302, **ADMIN_ONLY}),
    ("tenants:member_add", "get", {}, WRONG_METHOD),
    ("tenants:member_role", "post", {"role": "developer"}, {"admin": 302, **ADMIN_ONLY}),
    ("tenants:member_role", "get", {}, WRONG_METHOD),
    ("tenants:member_remove", "get", {}, {"admin": 200, **ADMIN_ONLY}),
    ("tenants:member_remove", "post", {}, {"admin": 302, **ADMIN_ONLY}),
    ("tenants:invitation_resend", "post", {}, {"admin": 302, **ADMIN_ONLY}),
    ("tenants:invitation_resend", "get", {}, WRONG_METHOD),
    ("tenants:invitation_cancel", "post", {}, {"admin": 302, **ADMIN_ONLY}),
    ("tenants:invitation_cancel", "get", {}, WRONG_METHOD),
    ("apikeys:list", "get", {}, ANY_MEMBER),
    ("apikeys:create", "get", {}, {"admin": 200, **ADMIN_ONLY}),
    ("apikeys:create", "post", KEY_FORM, {"admin": 302, **ADMIN_ONLY}),
    ("apikeys:secret", "post", {}, SEES_SECRETS),
    ("apikeys:secret", "get", {}, WRONG_METHOD),
    ("apikeys:renew", "get", {}, {"admin": 200, **ADMIN_ONLY}),
    ("apikeys:renew", "post", {"grace": "1h"}, {"admin": 302, **ADMIN_ONLY}),
    ("apikeys:retire", "get", {}, {"admin": 200, **ADMIN_ONLY}),
    ("apikeys:retire", "post", {}, {"admin": 302, **ADMIN_ONLY}),
    ("apikeys:edit", "get", {}, {"admin": 200, **ADMIN_ONLY}),
    ("apikeys:edit", "post", KEY_FORM, {"admin": 302, **ADMIN_ONLY}),
    ("apikeys:delete", "get", {}, {"admin": 200, **ADMIN_ONLY}),
    ("apikeys:delete", "post", {}, {"admin": 302, **ADMIN_ONLY}),
    ("apikeys:settings", "get", {}, {"admin": 200, **ADMIN_ONLY}),
    ("apikeys:settings", "post", {"allowed_networks": "203.0.113.0/24"}, {"admin": 302, **ADMIN_ONLY}),
    ("apikeys:disable", "post", {"confirm": "disable"}, {"admin": 302, **ADMIN_ONLY}),
    ("apikeys:disable", "get", {}, {"admin": 200, **ADMIN_ONLY}),  # the confirmation
    ("apikeys:enable", "post", {}, {"admin": 302, **ADMIN_ONLY}),
    ("apikeys:enable", "get", {}, WRONG_METHOD),
    ("apikeys:report_leak", "get", {}, {"admin": 200, **ADMIN_ONLY}),
    ("apikeys:report_leak", "post", {"secret": "akps_not-a-secret"}, {"admin": 200, **ADMIN_ONLY}),
    ("apikeys:bulk", "get", BULK_FORM, {"admin": 200, **ADMIN_ONLY}),
    ("apikeys:bulk", "post", BULK_FORM, {"admin": 302, **ADMIN_ONLY}),
    ("apikeys:export", "get", {}, ANY_MEMBER),
    ("apikeys:export", "post", {}, WRONG_METHOD),
    ("apikeys:get_started", "get", {}, ANY_MEMBER),
    ("apikeys:get_started", "post", {}, WRONG_METHOD),
    ("apikeys:scopes", "get", {}, ANY_MEMBER),
    ("apikeys:scopes", "post", {}, WRONG_METHOD),
    # Usage (issue 21): every member, viewers too; read-only.
    ("usage:overview", "get", {}, ANY_MEMBER),
    ("usage:overview", "post", {}, WRONG_METHOD),
    ("usage:export", "get", {}, ANY_MEMBER),
    ("usage:export", "post", {}, WRONG_METHOD),
    ("usage:key", "get", {}, ANY_MEMBER),
    ("usage:key", "post", {}, WRONG_METHOD),
    ("usage:key_export", "get", {}, ANY_MEMBER),
    ("usage:key_export", "post", {}, WRONG_METHOD),
    # The access advisor: every member reads it; narrowing is an admin's (the key has no use:
    # nothing to narrow, so the admin is sent back to the key's advice).
    ("advisor:findings", "get", {}, ANY_MEMBER),
    ("advisor:findings", "post", {}, WRONG_METHOD),
    ("advisor:key", "get", {}, ANY_MEMBER),
    ("advisor:key", "post", {}, WRONG_METHOD),
    ("advisor:narrow", "get", {}, {"admin": 302, **ADMIN_ONLY}),
    ("advisor:narrow", "post", {"keep": ["tax.tax_read"]}, {"admin": 302, **ADMIN_ONLY}),
    ("activity:list", "get", {}, {"admin": 200, **ADMIN_ONLY}),
    ("activity:list", "post", {}, WRONG_METHOD),
    ("activity:csv", "get", {}, {"admin": 200, **ADMIN_ONLY}),
    ("activity:keys", "get", {}, {"admin": 200, **ADMIN_ONLY}),
    ("activity:keys", "post", {}, WRONG_METHOD),
    ("oauth:try", "post", {}, SEES_SECRETS),
    ("oauth:try", "get", {}, WRONG_METHOD),
    ("webhooks:list", "get", {}, {"admin": 200, **ADMIN_ONLY}),
    ("webhooks:list", "post", {}, WRONG_METHOD),
    ("webhooks:create", "post", WEBHOOK_FORM, {"admin": 302, **ADMIN_ONLY}),
    ("webhooks:create", "get", {}, WRONG_METHOD),
    ("webhooks:detail", "get", {}, {"admin": 200, **ADMIN_ONLY}),
    ("webhooks:detail", "post", {}, WRONG_METHOD),
    ("webhooks:edit", "post", {**WEBHOOK_FORM, "is_active": "on"}, {"admin": 302, **ADMIN_ONLY}),
    ("webhooks:edit", "get", {}, WRONG_METHOD),
    ("webhooks:secret", "post", {}, {"admin": 200, **ADMIN_ONLY}),
    ("webhooks:secret", "get", {}, WRONG_METHOD),
    ("webhooks:rotate", "post", {}, {"admin": 302, **ADMIN_ONLY}),
    ("webhooks:rotate", "get", {}, WRONG_METHOD),
    ("webhooks:test", "post", {}, {"admin": 302, **ADMIN_ONLY}),
    ("webhooks:test", "get", {}, WRONG_METHOD),
    ("webhooks:delete", "get", {}, {"admin": 200, **ADMIN_ONLY}),
    ("webhooks:delete", "post", {}, {"admin": 302, **ADMIN_ONLY}),
    # Single sign-on: the tenant's admins set it up (sso/tests).
    ("sso:settings", "get", {}, {"admin": 200, **ADMIN_ONLY}),
    ("sso:settings", "post", {}, WRONG_METHOD),
    ("sso:configure", "post", SSO_FORM, {"admin": 302, **ADMIN_ONLY}),
    ("sso:configure", "get", {}, WRONG_METHOD),
    ("sso:enforce", "post", {}, {"admin": 302, **ADMIN_ONLY}),
    ("sso:enforce", "get", {}, WRONG_METHOD),
    ("sso:domain_add", "post", {"domain": "acme.test"}, {"admin": 302, **ADMIN_ONLY}),
    ("sso:domain_add", "get", {}, WRONG_METHOD),
    ("sso:domain_verify", "post", {}, {"admin": 302, **ADMIN_ONLY}),
    ("sso:domain_verify", "get", {}, WRONG_METHOD),
    ("sso:domain_remove", "post", {}, {"admin": 302, **ADMIN_ONLY}),
    ("sso:domain_remove", "get", {}, WRONG_METHOD),
    ("sso:scim_token_issue", "post", {}, {"admin": 200, **ADMIN_ONLY}),
    ("sso:scim_token_issue", "get", {}, WRONG_METHOD),
    ("sso:scim_token_revoke", "post", {}, {"admin": 302, **ADMIN_ONLY}),
    ("sso:scim_token_revoke", "get", {}, WRONG_METHOD),
    # A user's own account: no tenant, the same for every role.
    ("my_account", "get", {}, {"admin": 200, "developer": 200, "viewer": 200, "stranger": 200, "out": 302}),
    ("my_account", "post", {}, WRONG_METHOD),
    ("sessions_end_others", "post", {}, {role: 302 for role in ROLES}),
    ("reauth_status", "get", {}, {"admin": 200, "developer": 200, "viewer": 200, "stranger": 200, "out": 302}),
    ("reauth_status", "post", {}, WRONG_METHOD),
    ("time_zone_set", "post", {}, {role: 302 for role in ROLES}),
    ("time_zone_set", "get", {}, WRONG_METHOD),
    ("language_set", "post", {"language": "de"}, {role: 302 for role in ROLES}),
    ("language_set", "get", {}, WRONG_METHOD),
    ("sessions_end_others", "get", {}, WRONG_METHOD),
    ("notifications:preferences", "post", {"kind": []}, {role: 302 for role in ROLES}),
    ("notifications:preferences", "get", {}, WRONG_METHOD),
]

# Public by design: the token service authenticates clients itself, the account pages, and
# the invitation page, whose token is the credential (tenants/tests/test_invitations.py).
PUBLIC = {
    "tenants:invitation_accept",
    "oauth:token",
    "oauth:introspect",
    "oauth:revoke",
    "oauth:anonymous_login",
    "oauth:anonymous_refresh",
    "oauth:metadata",
    "oauth:jwks",
    "oauth:tokeninfo",  # a Bearer token is the credential (oauth/tests/test_tokeninfo.py)
    "oauth:secret_scanning",  # signed by the secret-scanning service (oauth/tests/test_secret_scanning.py)
    # The management API: a Bearer token is the credential, never a session; its own table,
    # endpoint × scope and cross-tenant, is api/tests/test_api_permissions.py.
    *(f"api:{pattern.name}" for pattern in api_urls.urlpatterns if pattern.name),
    "gateway:nginx",
    "gateway:traefik",
    "gateway:envoy",
    "healthz",
    "readyz",
    "metrics",  # loopback or METRICS_TOKEN, else 404 (portal/tests/test_metrics.py)
    # The JavaScript catalog, and the language switch of the signed-out pages (docs/i18n.md).
    "javascript-catalog",
    "set_language",
    "login",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "password_change",
    "password_change_done",
    # Sign in with SSO, and allauth's OpenID Connect sign-in and callback, and its SAML views
    # (sso/tests; the end of the assertion consumer service is the portal's sso:saml_finish).
    "sso:start",
    "openid_connect_login",
    "openid_connect_callback",
    "sso:saml_finish",
    "sso:saml_no_logout",
    # SCIM 2.0: its bearer token is the credential (sso/tests/test_scim.py).
    "sso:scim_users",
    "sso:scim_user",
    "sso:scim_config",
    "saml_acs",
    "saml_finish_acs",
    "saml_sls",
    "saml_metadata",
    "saml_login",
}
# allauth's account pages (login, re-authentication, password, second factors, passkeys) and
# ending one session: a user's own account, no tenant; their behaviour is tested in accounts/tests.
ACCOUNT_PAGES = {
    "account_change_password",
    "account_inactive",
    "account_login",
    "account_logout",
    "account_reauthenticate",
    "account_reset_password",
    "account_reset_password_done",
    "account_reset_password_from_key",
    "account_reset_password_from_key_done",
    "account_set_password",
    "mfa_activate_totp",
    "mfa_add_webauthn",
    "mfa_authenticate",
    "mfa_deactivate_totp",
    "mfa_download_recovery_codes",
    "mfa_edit_webauthn",
    "mfa_generate_recovery_codes",
    "mfa_index",
    "mfa_list_webauthn",
    "mfa_login_webauthn",
    "mfa_reauthenticate",
    "mfa_reauthenticate_webauthn",
    "mfa_remove_webauthn",
    "mfa_view_recovery_codes",
    "session_end",
}


# (model, fields left out): what a refused request must leave as it was.
GUARDED = [
    (Tenant, ()),
    (Membership, ("last_visited_at",)),  # a member's page view records the visit, refused or not
    (Invitation, ()),
    (User, ()),
    (ApiKey, ()),
    (ApiSecret, ()),
    (AccessToken, ()),
    (ActivityEntry, ()),
    (Endpoint, ()),
    (Delivery, ()),
    (OptOut, ()),
    (Connection, ()),
    (ClaimedDomain, ()),
]
REFUSALS = {403, 404, 405}


def _rows() -> dict[str, list[dict]]:
    return {
        model.__name__: [
            {field: value for field, value in row.items() if field not in left_out}
            for row in model.objects.order_by("pk").values()
        ]
        for model, left_out in GUARDED
    }


def _named_urls(patterns, namespace: str = "", params: frozenset[str] = frozenset()):
    """(name, the names of its URL arguments) for every named URL but the Django admin's."""
    for entry in patterns:
        inner_params = params | set(getattr(entry.pattern, "converters", {}))
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _named_urls(entry.url_patterns, inner, inner_params)
        elif isinstance(entry, URLPattern) and entry.name:
            yield namespace + entry.name, inner_params


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "method", "data", "expected"), TABLE, ids=[f"{n}-{m}" for n, m, _, _ in TABLE])
def test_status_by_role(client, request, reauthenticated, url_arguments, role, name, method, data, expected):
    if role != "out":
        # Recently authenticated, as after a login: the re-authentication itself is
        # portal/tests/test_reauthentication.py's table.
        client.force_login(request.getfixturevalue(CAST[role]))
        reauthenticated(client)
    params = dict(_named_urls(get_resolver().url_patterns))[name]
    before = _rows()
    response = getattr(client, method)(reverse(name, kwargs={p: url_arguments[p] for p in params}), data)
    assert response.status_code == expected[role]
    if role == "out":
        assert response.url.startswith(reverse("login") + "?next=")
    if role == "out" or expected[role] in REFUSALS:
        assert _rows() == before, "a refused request changed something"


def test_every_url_of_the_portal_has_a_row():
    assert all(set(expected) == set(ROLES) for *_, expected in TABLE)
    covered = {name for name, *_ in TABLE}
    missing = sorted({name for name, _ in _named_urls(get_resolver().url_patterns)} - covered - PUBLIC - ACCOUNT_PAGES)
    assert missing == []


def test_the_favicon_is_public(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response.url.endswith("favicon.svg")
