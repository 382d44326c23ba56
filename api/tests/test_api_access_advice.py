"""GET /api/v1/keys/{id}/access-advice: the access advisor's advice as the key's page shows it
(usage/advisor.py; the rules of "used" are tested in usage/tests/test_advisor.py), its shape in
the OpenAPI document, another tenant's key, and its queries."""

import pytest
from django.utils import timezone
from openapi_schema_validator import OAS31Validator

from apikeys.models import KeyKind
from apikeys.services import key_create
from kernel.usage import ALLOWED
from scopes.models import Scope
from scopes.routes import route_table
from usage.models import DayUsage

pytestmark = pytest.mark.django_db

SCOPES = ["tax.tax_read", "category.category_manage", "category.category_publish"]


@pytest.fixture
def used_key(acme):
    """A custom key of three scopes whose gateway calls used tax.tax_read only."""
    key, _ = key_create(tenant=acme, kind=KeyKind.CUSTOM, name="ERP", scopes=Scope.objects.filter(name__in=SCOPES))
    operation = route_table().opened_by_scope("tax.tax_read")[0]
    DayUsage.objects.create(
        bucket=timezone.now().replace(hour=0, minute=0, second=0, microsecond=0),
        tenant=acme,
        key=key,
        secret_id=key.secrets.first().pk,
        operation=operation.operation_id,
        outcome=ALLOWED,
        calls=12,
    )
    return key, operation


def test_it_gives_the_advice_in_the_documented_shape(client, api, caller, acme, used_key, django_assert_num_queries):
    key, operation = used_key
    _, _, token = caller(acme, ["portal.key_read"])
    url = f"/api/v1/keys/{key.public_id}/access-advice/"
    api("get", url, token)  # warm: the built-in keys' scope lists
    # The caller's token and key, the key, the scopes it holds and the roll-ups.
    with django_assert_num_queries(5):
        response = api("get", url, token)
    assert response.status_code == 200
    advice = response.json()
    assert advice["finding"] == "unused_scopes"
    assert advice["summary"] == "2 scopes unused in 90 days"
    assert advice["used_scopes"] == ["tax.tax_read"]
    assert advice["unused_scopes"] == ["category.category_manage", "category.category_publish"]
    assert (advice["calls_30d"], advice["calls_90d"], advice["can_narrow"]) == (12, 12, True)
    tax = next(
        scope for service in advice["services"] for scope in service["scopes"] if scope["name"] == "tax.tax_read"
    )
    assert tax["used"] and tax["last_used"] == timezone.now().date().isoformat() and tax["calls_90d"] == 12
    assert f"{operation.method} {operation.path}" in tax["operations"]

    document = client.get("/api/v1/schema/").json()
    schema = document["paths"]["/api/v1/keys/{key_id}/access-advice/"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["schema"]
    OAS31Validator({**schema, "components": document["components"]}).validate(advice)


def test_it_404s_for_another_tenants_key(api, caller, globex, used_key):
    key, _ = used_key
    _, _, token = caller(globex, ["portal.key_read"])
    response = api("get", f"/api/v1/keys/{key.public_id}/access-advice/", token)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json; charset=utf-8"
    assert "tax.tax_read" not in response.content.decode()
