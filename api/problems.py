"""Errors of the management API as RFC 9457 problem details (`application/problem+json`):
`{"type", "title", "status", "detail"}`, plus `errors` (field -> messages) for invalid input.
Every error has a stable `type` (PROBLEM_TYPES); clients branch on it, never on the text."""

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response

from apikeys.services import KeyBusy

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_BASE = "urn:api-key-portal:problem:"

# slug -> (status, title)
PROBLEM_TYPES: dict[str, tuple[int, str]] = {
    "invalid-request": (400, "The request is not valid"),
    "malformed-request": (400, "The request body could not be read"),
    "invalid-cursor": (400, "The cursor is not valid"),
    "not-authenticated": (401, "An access token is needed"),
    "invalid-token": (401, "The access token is unknown, expired or revoked"),
    "insufficient-scope": (403, "The access token lacks a scope this operation needs"),
    "escalation": (403, "The calling key cannot act on a key more powerful than itself"),
    "role-escalation": (403, "The calling key cannot give a person more than it could do itself"),
    "not-found": (404, "No such resource"),
    "method-not-allowed": (405, "Method not allowed"),
    "not-acceptable": (406, "Only JSON is offered"),
    "conflict": (409, "The request conflicts with the resource's state"),
    "self-lockout": (409, "The request would lock the calling key out"),
    "idempotency-in-progress": (409, "A request with this Idempotency-Key is still running"),
    "precondition-failed": (412, "The resource changed since it was read (If-Match)"),
    "unsupported-media-type": (415, "Send JSON (application/json)"),
    "idempotency-key-reused": (422, "This Idempotency-Key was used for another request"),
    "rate-limited": (429, "Too many requests for this token"),
    "limit-reached": (429, "An hourly limit of this operation is reached"),
    "busy": (503, "The resource is being changed by someone else; retry"),
}


class Problem(exceptions.APIException):
    """An error with a stable problem type; `detail` says what happened in this case."""

    def __init__(
        self,
        slug: str,
        detail: str = "",
        *,
        errors: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.slug = slug
        self.status_code, title = PROBLEM_TYPES[slug]
        self.errors = errors
        self.headers = headers  # e.g. Retry-After for limit-reached
        super().__init__(detail or title)


def problem_response(slug: str, detail: str = "", *, errors: Any = None, headers: dict | None = None) -> Response:
    status, title = PROBLEM_TYPES[slug]
    body: dict[str, Any] = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail or title}
    if errors:
        body["errors"] = errors
    response = Response(body, status=status, content_type=PROBLEM_CONTENT_TYPE, headers=headers)
    response["Cache-Control"] = "no-store"
    return response


def _messages(detail: Any) -> Any:
    """DRF's error detail as plain strings: a list of messages per field."""
    if isinstance(detail, dict):
        return {str(name): _messages(value) for name, value in detail.items()}
    if isinstance(detail, list):
        flat = [_messages(item) for item in detail]
        return flat
    return str(detail)


_DRF = [
    (exceptions.ValidationError, "invalid-request"),
    (exceptions.ParseError, "malformed-request"),
    (exceptions.NotAuthenticated, "not-authenticated"),
    (exceptions.AuthenticationFailed, "invalid-token"),
    (exceptions.PermissionDenied, "insufficient-scope"),
    (exceptions.NotFound, "not-found"),
    (exceptions.MethodNotAllowed, "method-not-allowed"),
    (exceptions.NotAcceptable, "not-acceptable"),
    (exceptions.UnsupportedMediaType, "unsupported-media-type"),
    (exceptions.Throttled, "rate-limited"),
]


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every error the API answers, as a problem."""
    if isinstance(exc, Problem):
        return problem_response(exc.slug, str(exc.detail), errors=exc.errors, headers=exc.headers)
    if isinstance(exc, KeyBusy):  # a key's rows locked past the lock timeout; nothing changed
        return problem_response("busy", str(exc))
    if isinstance(exc, Http404):
        return problem_response("not-found")
    if isinstance(exc, DjangoPermissionDenied):
        return problem_response("insufficient-scope")
    for cls, slug in _DRF:
        if isinstance(exc, cls):
            if slug == "invalid-request":
                errors = _messages(exc.detail)
                if not isinstance(errors, dict):
                    errors = {"non_field_errors": errors if isinstance(errors, list) else [errors]}
                return problem_response(slug, "Some fields are not valid; see errors.", errors=errors)
            headers = {}
            if getattr(exc, "auth_header", None):  # set by DRF from BearerAuthentication
                error = ', error="invalid_token"' if slug == "invalid-token" else ""
                headers["WWW-Authenticate"] = exc.auth_header + error
            if isinstance(exc, exceptions.Throttled) and exc.wait:
                headers["Retry-After"] = str(int(exc.wait))
            detail = exc.detail if isinstance(exc.detail, str) else ""
            return problem_response(slug, str(detail), headers=headers)
    return None  # a bug: Django's 500
