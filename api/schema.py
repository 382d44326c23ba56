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
