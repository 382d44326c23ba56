"""A tenant's SCIM 2.0 endpoint (RFC 7643, 7644), Users only: the identity provider adds
people (create) and takes them away (deactivate: `active: false`, or DELETE), with the bearer
token a tenant admin made on the SSO page. The token names the tenant; everything is looked up
through it. Filters: `userName eq "..."` and `externalId eq "..."`, the lookups provisioning
clients make before they create."""

import json
import re
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from activity.audit import Audit
from kernel.net import client_ip
from tenants.models import Tenant

from . import services
from .models import ClaimedDomain, ScimUser

CONTENT_TYPE = "application/scim+json"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
MAX_RESULTS = 100
FILTER_RE = re.compile(r'^\s*(userName|externalId)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE)


class ScimError(Exception):
    """A SCIM error response (RFC 7644 §3.12)."""

    def __init__(self, status: int, detail: str, scim_type: str = "") -> None:
        super().__init__(detail)
        self.status, self.detail, self.scim_type = status, detail, scim_type


def _json(data: dict, status: int = 200, **headers: str) -> JsonResponse:
    response = JsonResponse(data, status=status, content_type=CONTENT_TYPE)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _error(exc: ScimError) -> JsonResponse:
    body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(exc.status), "detail": exc.detail}
    if exc.scim_type:
        body["scimType"] = exc.scim_type
    headers = {"WWW_Authenticate": 'Bearer realm="scim"'} if exc.status == 401 else {}
    return _json(body, exc.status, **headers)


def scim_view(methods: list[str]) -> Callable:
    """A SCIM endpoint: no session, no CSRF (a bearer token), the tenant from the token, and
    ScimError turned into SCIM's error body."""

    def decorate(view: Callable) -> Callable:
        @csrf_exempt
        @login_not_required
        @require_http_methods(methods)
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            tenant = services.scim_tenant_for(token.strip()) if scheme.lower() == "bearer" else None
            try:
                if tenant is None:
                    raise ScimError(401, "A valid SCIM bearer token is required.")
                return view(request, tenant, *args, **kwargs)
            except ScimError as exc:
                return _error(exc)

        return wrapped

    return decorate


def _audit(request: HttpRequest) -> Audit:
    """The identity provider acting: no portal user, the address it called from."""
    return Audit(address=client_ip(request))


def _body(request: HttpRequest) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ScimError(400, "The body is not JSON.", "invalidSyntax") from None
    if not isinstance(body, dict):
        raise ScimError(400, "The body is not a JSON object.", "invalidSyntax")
    return body


def _resource(request: HttpRequest, scim_user: ScimUser) -> dict:
    location = request.build_absolute_uri(reverse("sso:scim_user", kwargs={"user_id": scim_user.public_id}))
    data: dict[str, Any] = {
        "schemas": [USER_SCHEMA],
        "id": str(scim_user.public_id),
        "userName": scim_user.user.email,
        "active": scim_user.active,
        "emails": [{"value": scim_user.user.email, "primary": True}],
        "meta": {
            "resourceType": "User",
            "created": scim_user.created_at.isoformat(),
            "lastModified": scim_user.updated_at.isoformat(),
            "location": location,
        },
    }
    if scim_user.external_id:
        data["externalId"] = scim_user.external_id
    return data


def _boolean(value: Any) -> bool:
    """SCIM's boolean, also as the strings some providers send ("False")."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ScimError(400, "active is true or false.", "invalidValue")


def _external_id(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > 255:
        raise ScimError(400, "externalId is a string of at most 255 characters.", "invalidValue")
    return value


def _user_name(tenant: Tenant, value: Any) -> str:
    """The userName: an e-mail address of a domain the tenant proved."""
    if not isinstance(value, str) or "@" not in value or len(value) > 254:
        raise ScimError(400, "userName is the person's e-mail address.", "invalidValue")
    email = value.strip().lower()
    domain = email.rpartition("@")[2]
    if not ClaimedDomain.objects.filter(tenant=tenant, domain=domain, verified_at__isnull=False).exists():
        raise ScimError(400, f"{domain} is not a domain this tenant has proved.", "invalidValue")
    return email


def _scim_user(tenant: Tenant, user_id: str) -> ScimUser:
    try:
        uuid.UUID(user_id)
    except ValueError:
        raise ScimError(404, "No such user.") from None
    scim_user = ScimUser.objects.select_related("user").filter(tenant=tenant, public_id=user_id).first()
    if scim_user is None:
        raise ScimError(404, "No such user.")
    return scim_user


@scim_view(["GET", "POST"])
def users(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    if request.method == "POST":
        return _create(request, tenant)
    found = ScimUser.objects.filter(tenant=tenant).select_related("user").order_by("created_at", "pk")
    if query := request.GET.get("filter"):
        match = FILTER_RE.match(query)
        if match is None:
            raise ScimError(400, 'Filters are userName eq "..." or externalId eq "...".', "invalidFilter")
        value = match.group(2).replace('\\"', '"')
        if match.group(1).lower() == "username":
            found = found.filter(user__email__iexact=value)
        else:
            found = found.filter(external_id=value)
    start, count = _int(request, "startIndex", 1), min(_int(request, "count", MAX_RESULTS), MAX_RESULTS)
    start = max(start, 1)
    total = found.count()
    page = list(found[start - 1 : start - 1 + max(count, 0)])
    return _json(
        {
            "schemas": [LIST_SCHEMA],
            "totalResults": total,
            "startIndex": start,
            "itemsPerPage": len(page),
            "Resources": [_resource(request, scim_user) for scim_user in page],
        }
    )


def _int(request: HttpRequest, name: str, default: int) -> int:
    try:
        return int(request.GET.get(name, default))
    except ValueError:
        raise ScimError(400, f"{name} is a number.", "invalidValue") from None


def _create(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    body = _body(request)
    email = _user_name(tenant, body.get("userName"))
    active = _boolean(body.get("active", True))
    try:
        scim_user = services.scim_user_create(
            tenant=tenant,
            audit=_audit(request),
            email=email,
            external_id=_external_id(body.get("externalId")),
            active=active,
        )
    except services.ScimConflict:
        raise ScimError(409, f"{email} is already provisioned.", "uniqueness") from None
    resource = _resource(request, scim_user)
    return _json(resource, 201, Location=resource["meta"]["location"])


@scim_view(["GET", "PUT", "PATCH", "DELETE"])
def user(request: HttpRequest, tenant: Tenant, user_id: str) -> HttpResponse:
    scim_user = _scim_user(tenant, user_id)
    if request.method == "GET":
        return _json(_resource(request, scim_user))
    if request.method == "DELETE":
        services.scim_user_set_active(scim_user=scim_user, audit=_audit(request), active=False)
        scim_user.delete()
        return HttpResponse(status=204)
    body = _body(request)
    if request.method == "PUT":
        if "userName" in body and _user_name(tenant, body["userName"]) != scim_user.user.email:
            raise ScimError(400, "userName cannot be changed.", "mutability")
        active, external_id = _boolean(body.get("active", True)), _external_id(body.get("externalId"))
    else:
        active, external_id = _patched(body, scim_user)
    scim_user = services.scim_user_set_active(
        scim_user=scim_user, audit=_audit(request), active=active, external_id=external_id
    )
    return _json(_resource(request, scim_user))


def _patched(body: dict, scim_user: ScimUser) -> tuple[bool, str]:
    """`active` and `externalId` after a PatchOp's operations (add or replace, by path or as
    a value object, as Entra ID and Okta send them)."""
    operations = body.get("Operations")
    if PATCH_SCHEMA not in (body.get("schemas") or []) or not isinstance(operations, list):
        raise ScimError(400, "A PatchOp with Operations is expected.", "invalidSyntax")
    values: dict[str, Any] = {"active": scim_user.active, "externalid": scim_user.external_id}
    for operation in operations:
        if not isinstance(operation, dict) or str(operation.get("op", "")).lower() not in ("add", "replace"):
            raise ScimError(400, "Only add and replace operations are supported.", "invalidSyntax")
        path, value = operation.get("path"), operation.get("value")
        changes = {path: value} if path else value
        if not isinstance(changes, dict):
            raise ScimError(400, "An operation without a path has an object as its value.", "invalidValue")
        for name, new in changes.items():
            if str(name).lower() not in values:
                raise ScimError(400, "Only active and externalId can be changed.", "invalidPath")
            values[str(name).lower()] = new
    return _boolean(values["active"]), _external_id(values["externalid"])


@scim_view(["GET"])
def service_provider_config(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    return _json(
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": {"supported": True},
            "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": True, "maxResults": MAX_RESULTS},
            "changePassword": {"supported": False},
            "sort": {"supported": False},
            "etag": {"supported": False},
            "authenticationSchemes": [
                {"type": "oauthbearertoken", "name": "Bearer token", "description": "The token from the SSO page."}
            ],
        }
    )
