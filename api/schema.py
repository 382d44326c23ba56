"""Completes the generated OpenAPI document: every operation lists the problem answers it can
give (RFC 9457, `application/problem+json`), so that no status the API answers is undocumented."""

IDEMPOTENCY_PATTERN = r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$"
PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "Stable identifier of the kind of error"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": True, "description": "Field -> messages"},
    },
}
ALWAYS = {
    "400": "Invalid input (problem type invalid-request, malformed-request, invalid-cursor)",
    "401": "No or no valid access token",
    "403": "The token lacks a scope, or the key is more powerful than the caller",
    "404": "No such resource in the token's tenant",
    "405": "Method not allowed",
    "406": "Not acceptable",
    "415": "Unsupported media type",
    "429": "Rate limited (see Retry-After)",
}
WRITES = {
    "409": "Conflicts with the resource's state, or would lock the caller out",
    "412": "If-Match did not match the current ETag",
    "422": "The Idempotency-Key was used for another request",
    "503": "The resource is busy; retry",
}


def add_problem_responses(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    ref = {"$ref": "#/components/schemas/Problem"}
    schemas = result["components"]["schemas"]
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            answers = dict(ALWAYS)
            if method != "get":
                answers |= WRITES
            for status, description in answers.items():
                operation["responses"].setdefault(
                    status, {"description": description, "content": {"application/problem+json": {"schema": ref}}}
                )
            operation["security"] = [{"bearerAuth": []}]
            for parameter in operation.get("parameters", []):
                if parameter["name"] == "Idempotency-Key":
                    parameter["schema"] = {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 255,
                        "pattern": IDEMPOTENCY_PATTERN,
                    }
            # Request bodies are strict (api.serializers.StrictSerializer): say so.
            for content in operation.get("requestBody", {}).get("content", {}).values():
                name = content.get("schema", {}).get("$ref", "").rpartition("/")[2]
                if name in schemas:
                    schemas[name]["additionalProperties"] = False
    result["components"]["securitySchemes"] = {
        "bearerAuth": {"type": "http", "scheme": "bearer", "description": "An access token from POST /oauth/token"}
    }
    return result


# One line per operation, for the rendered docs' list and OpenAPI linters.
SUMMARIES = {
    "activity_list": "List the tenant's activity",
    "invitations_list": "List open invitations",
    "invitations_create": "Invite a person",
    "invitations_cancel": "Cancel an invitation",
    "keys_list": "List API keys",
    "keys_create": "Create a custom API key",
    "keys_get": "Read an API key",
    "keys_update": "Change an API key",
    "keys_delete": "Delete an API key",
    "keys_disable": "Disable an API key",
    "keys_enable": "Enable an API key",
    "keys_renew": "Renew an API key's secret",
    "keys_retire_old_secret": "Retire an API key's old secret",
    "keys_reveal": "Reveal an API key's secret",
    "keys_usage": "Read an API key's usage",
    "members_list": "List members",
    "members_update": "Change a member's role",
    "members_remove": "Remove a member",
    "scopes_list": "List the scope catalogue",
    "tenants_list": "List tenants (operators)",
    "tenants_create": "Create a tenant (operators)",
    "tenants_get": "Read a tenant (operators)",
    "tenants_deactivate": "Deactivate a tenant (operators)",
}


def add_summaries(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: every operation has a summary. One that SUMMARIES
    does not name yet (and has no extend_schema(summary=...)) gets its operationId, which
    api/tests/test_api_docs.py refuses, so a new operation cannot ship without one."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if not operation.get("summary"):
                operation["summary"] = SUMMARIES.get(operation["operationId"], operation["operationId"])
    return result
