"""The re-authentication table: every action that needs a recent authentication (docs/accounts.md,
"Re-authentication"), by URL, method and data, played by a member with the right role.

For each row (its data may be a function of the test's `request`, for data that needs a
fixture; PREPARE puts the object in the state the action changes): logged in (force_login records no authentication) but not recently
authenticated, the action answers with the re-authentication page (a 302 to it, returning to
the page of the action; 401 JSON for the secret endpoint's fetch()) and nothing changes (the
GET of a form the user fills in asks too, before anything is typed);
within ACCOUNT_REAUTHENTICATION_TIMEOUT of a re-authentication it works; past it, it asks
again. A new action behind accounts.reauth belongs here, and every POST of the permission
table is either a row here or in FREE, with the reason it needs no re-authentication
(test_every_post_of_the_portal_is_in_the_table_or_free)."""

import time
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.urls import reverse
from django.utils import timezone

from activity.models import ActivityEntry
from apikeys.models import ApiKey, ApiSecret
from conftest import give_totp
from kernel.usage import ALLOWED
from portal.tests.test_permissions import SSO_FORM
from portal.tests.test_permissions import TABLE as PERMISSIONS
from scopes.models import Scope
from scopes.routes import route_table
from sso.models import ClaimedDomain, Connection, ScimToken
from tenants.models import Invitation, Membership, Tenant
from usage.models import DayUsage
from webhooks.models import Endpoint

pytestmark = pytest.mark.django_db

CAST = {"admin": "alice", "developer": "dave"}
KEY_FORM = {"name": "Renamed", "scopes": ["tax.tax_read"]}
JSON = {"HTTP_ACCEPT": "application/json"}
SAME = "same"  # back to the GET of the action's own URL: its form or confirmation page
LIST = "apikeys:list"
MEMBERS = "tenants:members"
DETAIL = "webhooks:detail"  # the endpoint's page
SSO = "sso:settings"

# (url name, method, data, role, headers, where the user returns after re-authenticating)
TABLE = [
    ("apikeys:secret", "post", {"purpose": "reveal"}, "developer", JSON, None),
    ("apikeys:secret", "post", {"purpose": "copy"}, "admin", JSON, None),
    ("apikeys:secret", "post", {"purpose": "reveal"}, "developer", {}, LIST),
    # The forms the user fills in ask before they are shown, so that nothing typed is lost.
    ("apikeys:create", "get", {}, "admin", {}, SAME),
    ("apikeys:edit", "get", {}, "admin", {}, SAME),
    ("apikeys:settings", "get", {}, "admin", {}, SAME),
    ("apikeys:report_leak", "get", {}, "admin", {}, SAME),
    ("apikeys:create", "post", {"name": "New one", "scopes": ["tax.tax_read"]}, "admin", {}, SAME),
    ("apikeys:edit", "post", KEY_FORM, "admin", {}, SAME),
    ("apikeys:delete", "post", {}, "admin", {}, SAME),
    ("apikeys:renew", "post", {"grace": "1h"}, "admin", {}, SAME),
    ("apikeys:retire", "post", {}, "admin", {}, SAME),
    ("apikeys:settings", "post", {"allowed_networks": "203.0.113.0/24"}, "admin", {}, SAME),
    # Back to the confirmation page with the same selection (apikeys/tests/test_key_bulk_and_export.py).
    ("apikeys:bulk", "get", {"action": "disable", "scope": "matching"}, "admin", {}, None),
    ("apikeys:bulk", "post", {"action": "disable", "scope": "matching"}, "admin", {}, None),
    ("apikeys:disable", "post", {"confirm": "disable"}, "admin", {}, None),  # back to the key's settings page
    ("apikeys:enable", "post", {}, "admin", {}, None),  # back to the key's settings page
    (
        "apikeys:report_leak",
        "post",
        lambda request: {"secret": request.getfixturevalue("acme_secrets")["emporix"][1]},
        "admin",
        {},
        SAME,
    ),
    # The key used only tax.tax_read (PREPARE): the other scope goes.
    ("advisor:narrow", "post", {"keep": ["tax.tax_read"]}, "admin", {}, SAME),
    ("tenants:member_add", "post", {"email": "new@example.com", "role": "viewer"}, "admin", {}, MEMBERS),
    ("tenants:member_role", "post", {"role": "developer"}, "admin", {}, MEMBERS),
    ("tenants:member_remove", "post", {}, "admin", {}, SAME),
    ("tenants:invitation_resend", "post", {}, "admin", {}, MEMBERS),
    ("tenants:invitation_cancel", "post", {}, "admin", {}, MEMBERS),
    ("tenants:policy", "post", {"require_mfa": "on"}, "admin", {}, MEMBERS),
    (
        "webhooks:create",
        "post",
        {"url": "https://hooks.example.com/k", "event_types": ["key.created"]},
        "admin",
        {},
        "webhooks:list",
    ),
    (
        "webhooks:edit",
        "post",
        {"url": "https://hooks.example.com/k", "event_types": ["key.renewed"]},
        "admin",
        {},
        DETAIL,
    ),
    ("webhooks:secret", "post", {}, "admin", {}, DETAIL),
    ("webhooks:rotate", "post", {}, "admin", {}, DETAIL),
    ("webhooks:delete", "post", {}, "admin", {}, SAME),
    ("sso:configure", "post", SSO_FORM, "admin", {}, SSO),
    ("sso:enforce", "post", lambda request: {"exempt": [str(request.getfixturevalue("alice").pk)]}, "admin", {}, SSO),
    ("sso:domain_add", "post", {"domain": "acme.test"}, "admin", {}, SSO),
    ("sso:domain_remove", "post", {}, "admin", {}, SSO),
    ("sso:scim_token_issue", "post", {}, "admin", {}, SSO),
    ("sso:scim_token_revoke", "post", {}, "admin", {}, SSO),
    # allauth's own: turning the authenticator app off (and so MFA, with the recovery codes),
    # removing a passkey (MFA off for a user who has only that), new recovery codes.
    ("mfa_deactivate_totp", "post", {}, "admin", {}, None),
    ("mfa_remove_webauthn", "post", {}, "admin", {}, None),
    ("mfa_generate_recovery_codes", "post", {}, "admin", {}, None),
]
# POSTs of the permission table that need no recent authentication, and why.
FREE = {
    "tenants:list": "creating a tenant of one's own gives nothing of another's",
    "oauth:try": "shows the token response with the token masked; the secret never leaves the server",
    "webhooks:test": "sends a test event to the endpoint the tenant configured; nothing changes",
    "sessions_end_others": "ends sessions: protects the account, gives nothing",
    "time_zone_set": "a display preference",
    "language_set": "a display preference",
    "notifications:preferences": "which notices the user gets by mail",
    "sso:domain_verify": "reads the domain's public TXT record, which is the proof; nothing else changes",
}
ALLAUTH = {"mfa_deactivate_totp", "mfa_remove_webauthn", "mfa_generate_recovery_codes"}


def _disabled(arguments: dict) -> None:
    ApiKey.objects.filter(public_id=arguments["key_id"]).update(disabled_at=timezone.now())


def _used_for_one_of_two_scopes(arguments: dict) -> None:
    """The custom key holds a second scope and its gateway calls used only tax.tax_read."""
    key = ApiKey.objects.get(public_id=arguments["key_id"])
    key.scopes.add(Scope.objects.get(name="category.category_manage"))
    DayUsage.objects.create(
        bucket=timezone.now().replace(hour=0, minute=0, second=0, microsecond=0),
        tenant_id=key.tenant_id,
        key=key,
        secret_id=key.secrets.first().pk,
        operation=route_table().opened_by_scope("tax.tax_read")[0].operation_id,
        outcome=ALLOWED,
        calls=3,
    )


PREPARE = {"apikeys:enable": _disabled, "advisor:narrow": _used_for_one_of_two_scopes}
IDS = [f"{name}-{method}-{role}-{'json' if headers else 'form'}" for name, method, _, role, headers, _ in TABLE]
ARGUMENTS = {
    "apikeys:secret": ["code", "key_id"],
    "apikeys:create": ["code"],
    "apikeys:edit": ["code", "key_id"],
    "apikeys:delete": ["code", "key_id"],
    "apikeys:renew": ["code", "key_id"],
    "apikeys:retire": ["code", "key_id", "secret_id"],
    "apikeys:settings": ["code", "key_id"],
    "apikeys:disable": ["code", "key_id"],
    "apikeys:enable": ["code", "key_id"],
    "apikeys:report_leak": ["code"],
    "apikeys:bulk": ["code"],
    "advisor:narrow": ["code", "key_id"],
    "tenants:member_add": ["code"],
    "tenants:member_role": ["code", "member_id"],
    "tenants:member_remove": ["code", "member_id"],
    "tenants:invitation_resend": ["code", "invitation_id"],
    "tenants:invitation_cancel": ["code", "invitation_id"],
    "tenants:policy": ["code"],
    "mfa_deactivate_totp": [],
    "mfa_remove_webauthn": ["pk"],
    "mfa_generate_recovery_codes": [],
    "webhooks:create": ["code"],
    "webhooks:edit": ["code", "endpoint_id"],
    "webhooks:secret": ["code", "endpoint_id"],
    "webhooks:rotate": ["code", "endpoint_id"],
    "webhooks:delete": ["code", "endpoint_id"],
    "sso:configure": ["code"],
    "sso:enforce": ["code"],
    "sso:domain_add": ["code"],
    "sso:domain_remove": ["code", "domain_id"],
    "sso:scim_token_issue": ["code"],
    "sso:scim_token_revoke": ["code"],
}


@pytest.fixture
def url_arguments(url_arguments, acme):
    """The permission table's arguments; alice also has an authenticator app (turning the
    policy on needs one, and turning it off is a row) and a passkey (removing it is a row;
    the row is all the removal reads of it), and acme a SCIM token (revoking it is a row)."""
    alice = acme.memberships.get(role="admin").user
    give_totp(alice)
    ScimToken.objects.create(tenant=acme, digest=b"a SCIM token's digest, for the revoke row")
    passkey = Authenticator.objects.create(
        user=alice, type=Authenticator.Type.WEBAUTHN, data={"name": "Work laptop", "credential": {}}
    )
    return {**url_arguments, "pk": passkey.pk}


def state() -> tuple:
    """Everything the actions of the table could change."""
    return (
        list(ActivityEntry.objects.order_by("pk").values_list("pk", "action")),
        list(ApiKey.objects.order_by("pk").values_list("pk", "name", "disabled_at", "allowed_networks")),
        sorted(ApiKey.scopes.through.objects.values_list("apikey_id", "scope_id")),
        list(ApiSecret.objects.order_by("pk").values_list("pk", "expires_at")),
        list(Membership.objects.order_by("pk").values_list("pk", "role")),
        list(Invitation.objects.order_by("pk").values_list("pk", "token_digest", "expires_at")),
        list(Tenant.objects.order_by("pk").values_list("pk", "require_mfa", "sso_required")),
        list(Membership.objects.order_by("pk").values_list("pk", "sso_exempt")),
        list(Connection.objects.order_by("pk").values_list("pk", "updated_at")),
        list(ClaimedDomain.objects.order_by("pk").values_list("pk", "domain", "verified_at")),
        list(ScimToken.objects.order_by("pk").values_list("pk", "digest")),
        list(Authenticator.objects.order_by("pk").values_list("pk", "type")),
        [
            (pk, url, events, bytes(ciphertext), revealed)
            for pk, url, events, ciphertext, revealed in Endpoint.objects.order_by("pk").values_list(
                "pk", "url", "event_types", "secret_ciphertext", "secret_revealed_at"
            )
        ],
    )


def act(client, request, url_arguments, name, method, data, headers):
    url = reverse(name, kwargs={arg: url_arguments[arg] for arg in ARGUMENTS[name]})
    data = data(request) if callable(data) else data
    return url, getattr(client, method)(url, data, **headers)


def prepare(name: str, url_arguments: dict) -> None:
    if name in PREPARE:
        PREPARE[name](url_arguments)


def assert_asked_to_reauthenticate(response, url: str, headers: dict, back: str | None, code: str) -> None:
    if headers:
        assert response.status_code == 401
        answer = response.json()
        assert answer["error"] == "reauthentication_required"
        target = answer["reauthenticate_url"]
    else:
        assert response.status_code == 302
        target = response.url
    assert target.startswith(reverse("account_reauthenticate") + "?next=")
    if back is not None:
        if back == SAME:
            expected = url
        elif back == DETAIL:
            expected = url.rsplit("/", 2)[0] + "/"  # .../webhooks/<id>/<action>/ -> .../webhooks/<id>/
        else:
            expected = reverse(back, kwargs={"code": code})
        assert parse_qs(urlsplit(target).query)["next"][0].split("#")[0] == expected


@pytest.mark.parametrize(("name", "method", "data", "role", "headers", "back"), TABLE, ids=IDS)
def test_it_asks_for_a_recent_authentication_and_changes_nothing(
    client, request, url_arguments, name, method, data, role, headers, back
):
    client.force_login(request.getfixturevalue(CAST[role]))
    prepare(name, url_arguments)
    before = state()
    url, response = act(client, request, url_arguments, name, method, data, headers)
    assert_asked_to_reauthenticate(response, url, headers, back, url_arguments["code"])
    if name not in ALLAUTH:  # allauth's own answer
        assert "no-store" in response["Cache-Control"]
    assert state() == before


@pytest.mark.parametrize(("name", "method", "data", "role", "headers", "back"), TABLE, ids=IDS)
def test_it_works_within_the_window(
    client, request, settings, reauthenticated, url_arguments, name, method, data, role, headers, back
):
    client.force_login(request.getfixturevalue(CAST[role]))
    prepare(name, url_arguments)
    reauthenticated(client)
    with time_machine.travel(time.time() + settings.ACCOUNT_REAUTHENTICATION_TIMEOUT - 5, tick=False):
        before = state()
        _, response = act(client, request, url_arguments, name, method, data, headers)
    if method == "get":  # the form is shown; showing it changes nothing
        assert response.status_code == 200
        assert state() == before
        return
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert not response.url.startswith(reverse("account_reauthenticate"))
    assert state() != before


@pytest.mark.parametrize(("name", "method", "data", "role", "headers", "back"), TABLE, ids=IDS)
def test_it_asks_again_after_the_window(
    client, request, settings, reauthenticated, url_arguments, name, method, data, role, headers, back
):
    client.force_login(request.getfixturevalue(CAST[role]))
    prepare(name, url_arguments)
    reauthenticated(client)
    with time_machine.travel(time.time() + settings.ACCOUNT_REAUTHENTICATION_TIMEOUT + 1, tick=False):
        before = state()
        url, response = act(client, request, url_arguments, name, method, data, headers)
        assert_asked_to_reauthenticate(response, url, headers, back, url_arguments["code"])
        assert state() == before


def test_every_post_of_the_portal_is_in_the_table_or_free():
    posts = {
        name for name, method, _, statuses in PERMISSIONS if method == "post" and 405 not in set(statuses.values())
    }
    rows = {name for name, method, *_ in TABLE if method == "post"}
    assert not rows & set(FREE), "a POST both in the table and free"
    assert posts - set(FREE) <= rows, f"POSTs neither in the table nor free: {sorted(posts - set(FREE) - rows)}"


# The webhook forms are on pages that stay free to read (the endpoints, an endpoint's delivery
# log): without a recent authentication their fields are shown locked (a disabled fieldset) with
# a link to re-authenticate and come back, so that the user does so before typing.
WEBHOOK_FORMS = [
    ("webhooks:list", ["code"], "webhooks:create", "#add-heading"),
    ("webhooks:detail", ["code", "endpoint_id"], "webhooks:edit", "#edit-heading"),
]
LOCKED = 'fieldset class="reauth-lock" disabled'


@pytest.mark.parametrize(("name", "arguments", "action", "anchor"), WEBHOOK_FORMS, ids=[n for n, *_ in WEBHOOK_FORMS])
def test_a_webhook_form_is_locked_without_a_recent_authentication(
    client, settings, alice, reauthenticated, url_arguments, name, arguments, action, anchor
):
    client.force_login(alice)
    url = reverse(name, kwargs={arg: url_arguments[arg] for arg in arguments})
    action_url = reverse(action, kwargs={arg: url_arguments[arg] for arg in ARGUMENTS[action]})

    response = client.get(url)
    assert response.status_code == 200  # the page itself stays free
    html = response.content.decode()
    assert LOCKED in html and f'action="{action_url}"' in html
    link = response.context["reauth_url"]
    assert link.startswith(reverse("account_reauthenticate") + "?next=")
    assert parse_qs(urlsplit(link).query)["next"][0] == url + anchor
    assert f'href="{link.replace("&", "&amp;")}"' in html

    reauthenticated(client)
    response = client.get(url)
    assert response.context["reauth_url"] is None and LOCKED not in response.content.decode()
    with time_machine.travel(time.time() + settings.ACCOUNT_REAUTHENTICATION_TIMEOUT + 1, tick=False):
        assert LOCKED in client.get(url).content.decode()
