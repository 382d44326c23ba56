"""The OpenAPI document at a stable URL, and its docs page under the portal's strict CSP."""

import re

import pytest

pytestmark = pytest.mark.django_db


def test_the_schema_is_openapi_3_1_and_public(client):
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"] == "3.1.0"
    assert "/api/v1/keys/{key_id}/renew/" in schema["paths"]
    renew = schema["paths"]["/api/v1/keys/{key_id}/renew/"]["post"]
    assert {"401", "403", "404", "409", "429"} <= set(renew["responses"])
    assert schema["components"]["schemas"]["KeyCreateRequestRequest"]["additionalProperties"] is False


def test_the_docs_page_runs_no_inline_script_or_style(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    assert "script-src 'self'" in response["Content-Security-Policy"]
    html = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)", html) and "<style" not in html and " style=" not in html
    assert "swagger-ui-bundle.js" in html and "js/api-docs.js" in html
    assert client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js").status_code == 200


def test_unknown_api_paths_are_problems(client):
    for path in ("/api/v1/nope/", "/api/v1/keys/not-a-uuid/", "/api/v1/keys/%0f/"):
        response = client.get(path)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json; charset=utf-8"
