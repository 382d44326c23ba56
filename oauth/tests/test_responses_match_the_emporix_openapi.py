"""Responses validated against Emporix's published OpenAPI documents (copies kept in
reference/, so the project never reads ../shared at run time)."""

from pathlib import Path

import pytest
import yaml
from openapi_schema_validator import OAS30Validator, oas30_format_checker

REFERENCE = Path(__file__).parent / "reference"


def load(name: str) -> dict:
    with open(REFERENCE / name, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def validate(document: dict, schema_name: str, instance: dict) -> None:
    schema = {**document["components"]["schemas"][schema_name], "components": document["components"]}
    OAS30Validator(schema, format_checker=oas30_format_checker).validate(instance)
    # The schemas allow any extra property; hold the response to the documented names.
    assert set(instance) <= set(schema["properties"]) | {"refresh_token", "refresh_token_expires_in"}


@pytest.fixture(scope="module")
def oauth_service():
    return load("oauth-service.api.yml")


@pytest.fixture(scope="module")
def customer_management():
    return load("customer-management.api.yml")


def test_the_token_response_matches_the_access_token_schema(post_token, emporix, oauth_service):
    key, secret = emporix
    response = post_token({"grant_type": "client_credentials", "client_id": key.client_id, "client_secret": secret})
    assert response.status_code == 200
    body = response.json()
    validate(oauth_service, "AccessToken", body)
    # Every documented member but refresh_token: the schema requires none, and an empty one
    # breaks standard clients (docs/token-service.md, Standard clients).
    assert set(body) == set(oauth_service["components"]["schemas"]["AccessToken"]["properties"]) - {"refresh_token"}
    # The documented request body is what our form parser reads.
    request = oauth_service["components"]["schemas"]["AccessTokenRequest"]
    assert {"grant_type", "client_id", "client_secret"} <= set(request["properties"])


def test_the_anonymous_login_matches_the_anonymous_access_token_schema(client, storefront, customer_management):
    key, _ = storefront
    response = client.get("/customerlogin/auth/anonymous/login", {"tenant": "acme", "client_id": key.client_id})
    assert response.status_code == 200
    body = response.json()
    validate(customer_management, "AnonymousAccessToken", body)
    operation = customer_management["paths"]["/customerlogin/auth/anonymous/login"]["get"]
    example = operation["responses"]["200"]["content"]["application/json"]["examples"]["Response example"]["value"]
    assert set(body) == set(example)

    refreshed = client.get(
        "/customerlogin/auth/anonymous/refresh",
        {"tenant": "acme", "client_id": key.client_id, "refresh_token": body["refresh_token"]},
    ).json()
    validate(customer_management, "AnonymousAccessToken", refreshed)
    assert set(refreshed) == set(example)
