"""Operators: keys from manage.py (create, list, revoke), and the operator flow: create a
tenant over the API, then use its Emporix API key's secret at /oauth/token."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from activity.models import Action, ActivityEntry
from api.operators import OPERATOR_TENANT_CODE, operator_key_create
from apikeys.models import ApiKey
from tenants.models import Membership, Role, Tenant

from .conftest import token_for

pytestmark = pytest.mark.django_db


def test_operator_keys_are_made_listed_and_revoked_by_command(client):
    out = StringIO()
    call_command("create_operator_key", "Signup shop", stdout=out)
    client_id = out.getvalue().split("Client ID: ")[1].split()[0]
    secret = out.getvalue().split("Secret:")[1].split()[0]
    key = ApiKey.objects.get(client_id=client_id)
    assert key.tenant.is_operator and key.tenant.code == OPERATOR_TENANT_CODE
    assert list(key.scopes.values_list("name", flat=True)) == ["portal.tenant_manage"]
    assert not Membership.objects.filter(tenant=key.tenant).exists()  # listed for nobody
    assert token_for(client, key, secret)
    listing = StringIO()
    call_command("list_operator_keys", stdout=listing)
    assert client_id in listing.getvalue() and secret not in listing.getvalue()
    call_command("revoke_operator_key", client_id, stdout=StringIO())
    assert not ApiKey.objects.filter(client_id=client_id).exists()
    with pytest.raises(CommandError):
        call_command("revoke_operator_key", client_id)


def test_the_operator_flow(client, api, acme):
    operator, secret = operator_key_create(name="Signup")
    token = token_for(client, operator, secret)
    created = api(
        "post",
        "/api/v1/tenants/",
        token,
        {"code": "shop7", "name": "Shop 7", "admin_email": "owner@shop7.example"},
        HTTP_IDEMPOTENCY_KEY="signup-shop7",
    )
    assert created.status_code == 201, created.content
    assert created["Location"] == "/api/v1/tenants/shop7/" and created["Cache-Control"] == "no-store"
    body = created.json()
    keys = {key["kind"]: key for key in body["keys"]}
    assert set(keys) == {"emporix", "storefront"}
    tenant = Tenant.objects.get(code="shop7")
    assert Membership.objects.get(tenant=tenant).role == Role.ADMIN
    entry = ActivityEntry.objects.get(tenant=tenant, action=Action.TENANT_CREATED)
    assert entry.actor_key == operator
    # The new tenant's Emporix API key works at the token endpoint.
    emporix = ApiKey.objects.get(client_id=keys["emporix"]["client_id"])
    shop_token = token_for(client, emporix, keys["emporix"]["secret"])
    # ... but holds no portal scope: the shop's key cannot manage keys.
    assert api("get", "/api/v1/keys/", shop_token).status_code == 403
    # A retry creates nothing new; a second create of the code is refused.
    again = api(
        "post",
        "/api/v1/tenants/",
        token,
        {"code": "shop7", "name": "Shop 7", "admin_email": "owner@shop7.example"},
        HTTP_IDEMPOTENCY_KEY="signup-shop7",
    )
    assert again.status_code == 201 and again.json() == body
    taken = api("post", "/api/v1/tenants/", token, {"code": "shop7", "name": "Again", "admin_email": "x@example.com"})
    assert taken.status_code == 400 and "code" in taken.json()["errors"]
    # Listed and read, without the operators' own tenant.
    codes = [t["code"] for t in api("get", "/api/v1/tenants/", token).json()["results"]]
    assert codes == ["acme", "shop7"]
    assert api("get", f"/api/v1/tenants/{OPERATOR_TENANT_CODE}/", token).status_code == 404
    # Deactivated: its keys stop working at once.
    deactivated = api("post", "/api/v1/tenants/shop7/deactivate/", token)
    assert deactivated.status_code == 200 and deactivated.json()["deactivated_at"]
    response = client.get("/oauth/tokeninfo", HTTP_AUTHORIZATION=f"Bearer {shop_token}")
    assert response.status_code == 401
    assert ActivityEntry.objects.filter(tenant=tenant, action=Action.TENANT_DEACTIVATED).exists()


def test_a_platform_scripts_a_new_tenant_end_to_end(client, api):
    operator, secret = operator_key_create(name="Signup")
    token = token_for(client, operator, secret)
    body = {
        "code": "shop8",
        "name": "Shop 8",
        "admin_email": "owner@shop8.example",
        "management_key": {"name": "Automation", "scopes": ["portal.key_read", "portal.key_manage", "tax.tax_read"]},
    }
    created = api("post", "/api/v1/tenants/", token, body)
    assert created.status_code == 201, created.content
    automation = next(key for key in created.json()["keys"] if key["name"] == "Automation")
    key = ApiKey.objects.get(client_id=automation["client_id"])
    manager = token_for(client, key, automation["secret"])
    # Hand out a key, rotate it, read what happened: only the documented API.
    handed = api("post", "/api/v1/keys/", manager, {"name": "Tax sync", "scopes": ["tax.tax_read"]})
    assert handed.status_code == 201
    renewed = api("post", handed["Location"] + "renew/", manager, {"grace_seconds": 600})
    assert renewed.status_code == 200 and renewed.json()["secret"] != handed.json()["secret"]
    assert api("get", "/api/v1/activity/", manager).status_code == 403  # not one of its scopes
    # A management key with an operator scope, or an unknown one, is refused with nothing made.
    body = {**body, "code": "shop9", "management_key": {"name": "X", "scopes": ["portal.tenant_manage"]}}
    refused = api("post", "/api/v1/tenants/", token, body)
    assert refused.status_code == 400 and "management_key.scopes" in refused.json()["errors"]
    assert not Tenant.objects.filter(code="shop9").exists()


def test_an_operator_key_acts_on_no_tenant(client, api, acme):
    operator, secret = operator_key_create(name="Signup")
    token = token_for(client, operator, secret)
    assert api("get", "/api/v1/keys/", token).status_code == 403
    assert api("get", "/api/v1/members/", token).status_code == 403


def test_a_deactivated_tenant_gets_no_new_keys(client, api, acme, caller, client_for, alice):
    _, _, token = caller(acme, ["tax.tax_read", "portal.key_manage"])
    operator, secret = operator_key_create(name="Signup")
    assert api("post", "/api/v1/tenants/acme/deactivate/", token_for(client, operator, secret)).status_code == 200
    # The caller's own key was disabled with the others: its token no longer works.
    assert api("post", "/api/v1/keys/", token, {"name": "New", "scopes": ["tax.tax_read"]}).status_code == 401
    # Nor may an admin start a new key in the portal.
    response = client_for(alice).post("/tenants/acme/api-keys/new/", {"name": "New", "scopes": ["tax.tax_read"]})
    assert not ApiKey.objects.filter(name="New").exists()
    assert response.status_code == 400 and "deactivated" in response.content.decode()
