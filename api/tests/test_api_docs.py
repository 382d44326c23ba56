"""The OpenAPI document at a stable URL, and its reference page under the portal's strict CSP."""

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


def test_the_old_docs_url_leads_to_the_reference(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 302 and response["Location"] == "/api-reference/"


def test_the_reference_runs_no_inline_script_and_allows_only_its_nonced_styles(client):
    response = client.get("/api-reference/")
    assert response.status_code == 200
    policy = dict(part.split(" ", 1) for part in response["Content-Security-Policy"].split("; "))
    assert policy["script-src"] == "'self'" and policy["img-src"] == "'self' data:"
    nonce = re.search(r"'nonce-([^']+)'", policy["style-src"]).group(1)
    html = response.content.decode()
    assert f'data-style-nonce="{nonce}"' in html  # handed to Redoc for its styled-components
    assert nonce != re.search(r"'nonce-([^']+)'", client.get("/api-reference/")["Content-Security-Policy"]).group(1)
    assert not re.search(r"<script(?![^>]*\bsrc=)", html) and "<style" not in html and " style=" not in html
    assert "vendor/redoc/redoc.standalone.js" in html and "js/api-docs.js" in html
    assert client.get("/static/vendor/redoc/redoc.standalone.js").status_code == 200
    # Every other page keeps the strict policy.
    assert "nonce" not in client.get("/accounts/login/")["Content-Security-Policy"]


def test_the_vendored_redoc_is_the_one_package_lock_pins():
    """static/vendor/redoc/ holds npm's redoc bundle as published (so `make run` needs no npm):
    the version package.json and package-lock.json pin, byte for byte what `npm ci` installs."""
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    vendored = (root / "static/vendor/redoc/redoc.standalone.js").read_bytes()
    pinned = json.loads((root / "package.json").read_text())["devDependencies"]["redoc"]
    locked = json.loads((root / "package-lock.json").read_text())["packages"]["node_modules/redoc"]["version"]
    assert pinned == locked
    assert (
        f'Version: "{locked}"'.encode() in (root / "static/vendor/redoc/redoc.standalone.js.LICENSE.txt").read_bytes()
    )
    installed = root / "node_modules/redoc/bundles/redoc.standalone.js"
    assert installed.exists(), "redoc is missing from node_modules: run `npm ci` (make test does)"
    assert vendored == installed.read_bytes()
    assert (root / "static/vendor/redoc/LICENSE").read_bytes() == (root / "node_modules/redoc/LICENSE").read_bytes()


def test_unknown_api_paths_are_problems(client):
    for path in ("/api/v1/nope/", "/api/v1/keys/not-a-uuid/", "/api/v1/keys/%0f/"):
        response = client.get(path)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json; charset=utf-8"


def test_the_document_passes_the_openapi_linter(client):
    """openapi-spec-validator (the OpenAPI 3.1 specification's schema and its rules), and what
    it does not check: every operation has its own summary, the document names its servers and
    its license, and every constraint the validation has is in it (the three that were missing)."""
    from openapi_spec_validator import validate

    schema = client.get("/api/v1/schema/").json()
    validate(schema)
    assert schema["servers"] and all(server["url"] for server in schema["servers"])
    assert schema["info"]["license"]["name"]
    operations = [(m, o) for path in schema["paths"].values() for m, o in path.items()]
    summaries = [operation["summary"] for _, operation in operations]
    assert all(
        summary and summary != operation["operationId"] for summary, (_, operation) in zip(summaries, operations)
    )
    assert len(set(summaries)) == len(summaries)

    limit = next(p for p in schema["paths"]["/api/v1/keys/"]["get"]["parameters"] if p["name"] == "limit")
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 100)
    code = schema["components"]["schemas"]["TenantCreateRequestRequest"]["properties"]["code"]
    assert (code["minLength"], code["maxLength"]) == (3, 16) and code["pattern"]
    role = schema["paths"]["/api/v1/members/{email}/"]["patch"]["requestBody"]["content"]["application/json"]
    name = role["schema"]["$ref"].rpartition("/")[2]
    assert schema["components"]["schemas"][name]["required"] == ["role"]


def test_every_tenant_code_the_document_allows_is_accepted(client):
    """tenants_create is left out of the positive schemathesis run (its management key's scope
    names are a catalogue rule), so its `code` is checked here: strings drawn from the
    document's own pattern and bounds pass the serializer's validation."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from api.serializers import TenantCreateRequest

    code = client.get("/api/v1/schema/").json()["components"]["schemas"]["TenantCreateRequestRequest"]["properties"][
        "code"
    ]
    field = TenantCreateRequest().fields["code"]

    @settings(max_examples=200, deadline=None)
    @given(
        st.from_regex(code["pattern"], fullmatch=True).filter(
            lambda v: code["minLength"] <= len(v) <= code["maxLength"]
        )
    )
    def accepted(value: str) -> None:
        assert field.run_validation(value) == value

    accepted()
