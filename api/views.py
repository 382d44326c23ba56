"""The management API's resources. Every view acts on the calling token's own tenant and calls
the same services (and validates with the same forms) as the portal's pages."""

import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Min, OuterRef, Prefetch, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from activity.models import Action, ActivityEntry
from apikeys.auth import custom_scope_names, held_scope_names
from apikeys.filters import key_search_q
from apikeys.forms import CustomKeyForm
from apikeys.models import LABEL_MAX_LENGTH, LABEL_PATTERN, ApiKey, ApiSecret, KeyKind
from apikeys.networks import address_allowed, networks_clean
from apikeys.services import (
    KeyMetadata,
    SecretUnreadable,
    key_create,
    key_delete,
    key_disable,
    key_enable,
    key_expiry_set,
    key_metadata_set,
    key_networks_set,
    key_origins_set,
    key_rate_limit_set,
    key_renew,
    key_token_lifetime_set,
    key_update,
    secret_retire,
    secret_show,
)
from kernel import crypto
from kernel.db import CompiledSelect
from kernel.net import client_ip
from oauth.models import AccessToken
from scopes.models import OPERATOR_SCOPES, Scope, Service
from tenants import limits as tenant_limits
from tenants import services as tenant_services
from tenants.forms import MemberAddForm, TenantCreateForm
from tenants.grants import Powers, RoleGrantRefused
from tenants.models import Invitation, Membership, Tenant

from . import serializers as s
from .base import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, CursorPage, PortalAPIView, idempotent
from .filters import ActivityApiFilterForm
from .grants import KEY_READ, key_powers, scopes_beyond, shown
from .problems import Problem

KEY_MANAGE = ("portal.key_manage",)
MEMBER_READ = ("portal.member_read", "portal.member_manage")
MEMBER_MANAGE = ("portal.member_manage",)
TENANT_MANAGE = ("portal.tenant_manage",)

CURSOR = OpenApiParameter(
    "cursor", {"type": "string", "minLength": 1, "maxLength": 500}, description="next_cursor of the previous page"
)
# The bounds api.base.page_size enforces, in the document too (schema-valid must mean accepted).
LIMIT = OpenApiParameter(
    "limit",
    {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE},
    description=f"Page size, 1 to {MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE})",
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Retries with the same key within 24 h get the first answer, with no second effect.",
)
IF_MATCH = OpenApiParameter(
    "If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, description="The key's ETag, as GET returned it."
)


def _checked(form) -> dict:
    """The form's cleaned data; its errors as an invalid-request problem (the UI's own rules)."""
    if not form.is_valid():
        raise Problem(
            "invalid-request",
            "Some fields are not valid; see errors.",
            errors={name: [str(message) for message in messages] for name, messages in form.errors.items()},
        )
    return form.cleaned_data


def _valid(serializer_class, request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def not_found(request, *args, **kwargs):
    """No API resource at this path."""
    from rest_framework.renderers import JSONRenderer

    from .problems import problem_response

    response = problem_response("not-found", "No API resource at this path.")
    response.accepted_renderer = JSONRenderer()
    response.accepted_media_type = "application/json"
    response.renderer_context = {}
    return response.render()


# --- Keys -----------------------------------------------------------------------------------------


def _keys(tenant: Tenant | int, now: datetime | None = None):
    """The tenant's keys with what the representation needs: custom keys' scope names and the
    old secret's expiry as subqueries. One query, whatever the number of keys."""
    old_secret = (
        ApiSecret.objects.in_grace(now)
        .filter(key=OuterRef("pk"))
        .values("key")
        .annotate(ends=Min("expires_at"))
        .values("ends")
    )
    return ApiKey.objects.filter(tenant=tenant).annotate(
        old_secret_expires_at=Subquery(old_secret),
        custom_scopes=custom_scope_names(),
        owner_email=F("owner__email"),
    )


_KEY_FIELDS = [field.attname for field in ApiKey._meta.concrete_fields]
_PAGE_COLUMNS = (*_KEY_FIELDS, "owner_email", "old_secret_expires_at", "custom_scopes")


def _key_page_queryset(
    tenant: int,
    now: datetime,
    kind: str | None,
    search: str | None,
    after: int | None,
    environment: str | None = None,
    label: str | None = None,
    owner: str | None = None,
    *,
    limit: int,
) -> QuerySet:
    keys = _keys(tenant, now).order_by("pk")
    if kind is not None:
        keys = keys.filter(kind=kind)
    if search is not None:
        keys = keys.filter(key_search_q(search))
    if environment is not None:
        keys = keys.filter(environment=environment)
    if label is not None:  # " erp ": labels are stored between spaces (apikeys.models.labels_store)
        keys = keys.filter(labels__contains=label)
    if owner is not None:
        keys = keys.filter(owner__email=owner)
    if after is not None:
        keys = keys.filter(pk__gt=after)
    return keys.values_list(*_PAGE_COLUMNS)[:limit]


# A page of keys is the API's most frequent read: its query is compiled once per process and
# shape (filters present, page size) by kernel.db (the fast path), then run with the request's
# values.
_key_page_query = CompiledSelect(
    "api.views.key_page",
    ApiKey,
    _key_page_queryset,
    {
        "tenant": -7301,
        "now": datetime(2000, 1, 1, tzinfo=UTC),
        "kind": "\x01kind\x01",
        "search": "\x01search\x01",
        "after": -7302,
        "environment": "\x01environment\x01",
        "label": "\x01label\x01",
        "owner": "\x01owner\x01",
    },
)


def _key_page(
    tenant: Tenant,
    *,
    kind: str | None,
    search: str | None,
    after: int | None,
    limit: int,
    environment: str | None = None,
    label: str | None = None,
    owner: str | None = None,
) -> list["_PageKey"]:
    """Up to `limit` keys of `tenant` after id `after`, in id order, of `kind`, with `search`
    in their name, Client ID, description or labels, in `environment` ("" for none), with
    `label` and owned by `owner` (an e-mail), each if given. One query."""
    values = {
        "tenant": tenant.pk,
        "now": timezone.now(),
        "kind": kind,
        "search": search,
        "after": after,
        "environment": environment,
        "label": f" {label} " if label is not None else None,
        "owner": owner,
    }
    rows = _key_page_query.rows(values, limit=limit)
    return [_PageKey(pk=row[0], **dict(zip(_PAGE_COLUMNS, row, strict=True))) for row in rows]


class _PageKey(SimpleNamespace):
    """A key of a page as plain attributes, for _key_data: a page has up to 100 keys, and
    model instances cost more than the rest of the page together. The model's own rules
    (held_scope_names reads the custom_scopes column) apply to it unchanged."""

    is_dormant = ApiKey.is_dormant


def _scope_names(key: ApiKey) -> list[str]:
    return sorted(held_scope_names(key))


def _key_data(key: "ApiKey | _PageKey", tenant: Tenant, secret: str | None = None) -> dict:
    """A key as the API shows it (s.Key; with its secret only right after create and renew).
    A plain dict: the JSON renderer formats the dates, and a page of 100 costs no serializer
    instances."""
    data = {
        "id": str(key.public_id),
        "name": key.name,
        "kind": key.kind,
        "client_id": key.client_id,
        "scopes": _scope_names(key),
        "created_at": key.created_at,
        "renewed_at": key.renewed_at,
        "last_used_at": key.last_used_at,
        "disabled_at": key.disabled_at,
        "expires_at": key.expires_at,
        "renew_by": key.renew_by,
        "dormant": key.is_dormant(tenant=tenant),
        "allowed_networks": key.allowed_networks.split("\n") if key.allowed_networks else [],
        "allowed_origins": key.allowed_origins.split("\n") if key.allowed_origins else [],
        "token_lifetime": key.token_lifetime,
        "token_format": key.token_format or "default",
        "rate_limit": key.rate_limit,
        "rate_limit_period": key.rate_limit_period or "minute",
        "old_secret_expires_at": getattr(key, "old_secret_expires_at", None),
        "description": key.description,
        "owner": getattr(key, "owner_email", None),
        "environment": key.environment or None,
        "labels": key.labels.split(),
    }
    if secret is not None:
        data["secret"] = secret
    return data


def _etag(key: ApiKey, tenant: Tenant) -> str:
    """Changes whenever anything an update could overwrite changes (not the last use)."""
    data = _key_data(key, tenant)
    data.pop("last_used_at")
    data.pop("dormant")  # follows the clock, not a change
    return '"' + crypto.digest(repr(sorted(data.items()))).hex()[:32] + '"'


class KeyViewMixin:
    def key_or_404(self, key_id: str, *, lock: bool = False) -> ApiKey:
        keys = _keys(self.tenant)
        if lock:  # locked and read in one query
            keys = keys.select_for_update(of=("self",))
        return get_object_or_404(keys, public_id=key_id)

    def no_escalation(self, key: ApiKey, scopes: list[str] | None = None) -> None:
        """A token acts only on keys whose scopes are a subset of its own, and gives none more."""
        beyond = scopes_beyond(self.request.auth.scopes, _scope_names(key) if scopes is None else scopes)
        if beyond:
            raise Problem("escalation", f"The key's scopes are not all held by the calling token: {shown(beyond)}.")

    def is_caller(self, key: ApiKey) -> bool:
        return key.pk == self.request.auth.key_id

    def key_to_act_on(self, key_id: str) -> ApiKey:
        """The tenant's key `key_id` (else 404), if the caller holds all of its scopes (else 403)."""
        key = self.key_or_404(key_id)
        self.no_escalation(key)
        return key

    def key_response(self, key_id: str, secret: str | None = None) -> Response:
        """The key as it is now, with its ETag (and the new secret, after create or renew)."""
        key = self.key_or_404(key_id)
        return Response(_key_data(key, self.tenant, secret=secret), headers={"ETag": _etag(key, self.tenant)})


# No control character (PostgreSQL refuses a NUL in a parameter).
NO_CONTROL_CHARACTERS = "^[^\\u0000-\\u001f\\u007f]*$"


def _has_control(value: str) -> bool:
    return re.search(r"[\x00-\x1f\x7f]", value) is not None


def _metadata_filters(request: Request) -> dict:
    """The list's environment, label and owner parameters, checked."""
    params = request.query_params
    filters: dict = {}
    environment = params.get("environment")
    if environment is not None:
        if environment not in (*s.ENVIRONMENTS, "none"):
            raise Problem("invalid-request", errors={"environment": [f"One of {', '.join(s.ENVIRONMENTS)}, none."]})
        filters["environment"] = "" if environment == "none" else environment
    label = params.get("label")
    if label is not None:
        if len(label) > LABEL_MAX_LENGTH or not re.match(LABEL_PATTERN, label):
            raise Problem("invalid-request", errors={"label": ["Lowercase letters, digits and hyphens."]})
        filters["label"] = label
    owner = params.get("owner")
    if owner is not None:
        if len(owner) > 254 or _has_control(owner):
            raise Problem("invalid-request", errors={"owner": ["An e-mail address."]})
        filters["owner"] = owner
    return filters


def _metadata(tenant: Tenant, data: dict, key: ApiKey | None = None) -> KeyMetadata | None:
    """The metadata a create or update sends, merged with the key's (None: none sent). An owner
    must be a member of the tenant."""
    if not {"description", "owner", "environment", "labels"} & data.keys():
        return None
    owner = key.owner if key is not None else None
    if "owner" in data:
        owner = None
        if data["owner"] is not None:
            owner = get_user_model().objects.filter(memberships__tenant=tenant, email__iexact=data["owner"]).first()
            if owner is None:
                raise Problem("invalid-request", errors={"owner": ["Not a member of this tenant."]})
    description = data.get("description", key.description if key is not None else "")
    if any(ord(char) < 32 and char not in "\n\t" for char in description):
        raise Problem("invalid-request", errors={"description": ["No control characters."]})
    return KeyMetadata(
        description=description,
        owner=owner,
        environment=(data["environment"] or "") if "environment" in data else (key.environment if key else ""),
        labels=tuple(sorted(set(data["labels"]))) if "labels" in data else tuple(key.label_list if key else ()),
    )


class KeyList(KeyViewMixin, PortalAPIView):
    """The token's tenant's keys: list (filter by kind, search by name, cursor pages) and create a
    custom key (its secret is in the answer, once). Needs portal.key_read (list) or
    portal.key_manage."""

    required_scopes = {"GET": KEY_READ, "POST": KEY_MANAGE}

    @extend_schema(
        operation_id="keys_list",
        parameters=[
            CURSOR,
            LIMIT,
            OpenApiParameter("kind", OpenApiTypes.STR, enum=["emporix", "storefront", "custom"]),
            OpenApiParameter(
                "search",
                {"type": "string", "maxLength": 64, "pattern": NO_CONTROL_CHARACTERS},
                description="Part of the name, Client ID, description or a label (case-insensitive)",
            ),
            OpenApiParameter(
                "environment", OpenApiTypes.STR, enum=[*s.ENVIRONMENTS, "none"], description="none: no environment"
            ),
            OpenApiParameter("label", {"type": "string", "pattern": LABEL_PATTERN, "maxLength": LABEL_MAX_LENGTH}),
            OpenApiParameter(
                "owner",
                {"type": "string", "maxLength": 254, "pattern": NO_CONTROL_CHARACTERS},
                description="The owner's e-mail",
            ),
        ],
        responses={200: s.KeyPage},
    )
    def get(self, request: Request) -> Response:
        pages = CursorPage("pk")
        limit = pages.get_page_size(request)
        kind = request.query_params.get("kind")
        if kind is not None and kind not in KeyKind.values:
            raise Problem("invalid-request", errors={"kind": [f"One of {', '.join(KeyKind.values)}."]})
        search = request.query_params.get("search") or None
        if search is not None and (len(search) > 64 or _has_control(search)):
            raise Problem("invalid-request", errors={"search": ["At most 64 characters, no control characters."]})
        metadata = _metadata_filters(request)
        # The page's query is compiled once (_key_page), so DRF reads and writes its cursor
        # but does not run the query.
        after = pages.keyset_position(request, ApiKey)
        page = _key_page(self.tenant, kind=kind, search=search, after=after, limit=limit + 1, **metadata)
        return pages.keyset_response(page, limit, lambda page: [_key_data(key, self.tenant) for key in page])

    @extend_schema(
        operation_id="keys_create",
        request=s.KeyCreateRequest,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: s.KeyWithSecret},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = _valid(s.KeyCreateRequest, request)
        cleaned = _checked(CustomKeyForm(data={"name": data["name"], "scopes": data["scopes"]}, tenant=self.tenant))
        scopes = cleaned["scopes"]
        self.no_escalation(ApiKey(kind=KeyKind.CUSTOM), [scope.name for scope in scopes])
        try:
            key, secret = key_create(
                tenant=self.tenant,
                kind=KeyKind.CUSTOM,
                name=cleaned["name"],
                scopes=scopes,
                expires_at=data.get("expires_at"),
                metadata=_metadata(self.tenant, data),
                audit=self.audit,
            )
        except ValueError as error:
            raise Problem("invalid-request", str(error), errors={"expires_at": [str(error)]}) from None
        except IntegrityError:  # another request took the name since the form's check
            raise Problem("conflict", "This tenant already has a key with this name.") from None
        key = _keys(self.tenant).get(pk=key.pk)
        response = Response(_key_data(key, self.tenant, secret=secret), status=201)
        response["Location"] = reverse("api:key", kwargs={"key_id": key.public_id})
        response["ETag"] = _etag(key, self.tenant)
        return response


class KeyDetail(KeyViewMixin, PortalAPIView):
    """One key: read (with an ETag), change a custom key's name and scopes (If-Match), delete a
    custom key. A key more powerful than the caller cannot be changed or deleted."""

    required_scopes = {"GET": KEY_READ, "PATCH": KEY_MANAGE, "DELETE": KEY_MANAGE}

    @extend_schema(operation_id="keys_get", responses={200: s.Key})
    def get(self, request: Request, key_id: str) -> Response:
        return self.key_response(key_id)

    @extend_schema(
        operation_id="keys_update", request=s.KeyUpdateRequest, parameters=[IF_MATCH], responses={200: s.Key}
    )
    def patch(self, request: Request, key_id: str) -> Response:
        data = _valid(s.KeyUpdateRequest, request)
        with transaction.atomic():
            key = self.key_or_404(key_id, lock=True)
            expected = request.headers.get("If-Match")
            if expected is not None and expected.strip() not in ("*", _etag(key, self.tenant)):
                raise Problem(
                    "precondition-failed", "Read the key again (GET) and apply the change to what it says now."
                )
            self.no_escalation(key)
            self._settings_change(key, data)
            metadata = _metadata(self.tenant, data, key)
            if metadata is not None:
                key_metadata_set(key=key, metadata=metadata, audit=self.audit)
            if not {"name", "scopes"} & data.keys():
                return self.key_response(key_id)
            if key.kind != KeyKind.CUSTOM:
                raise Problem("conflict", f"The {key.name} key's name and scopes cannot be changed.")
            before = _scope_names(key)
            cleaned = _checked(
                CustomKeyForm(
                    data={"name": data.get("name", key.name), "scopes": data.get("scopes", before)},
                    tenant=self.tenant,
                    key=key,
                )
            )
            scopes = cleaned["scopes"]
            names = [scope.name for scope in scopes]
            self.no_escalation(key, names)
            if self.is_caller(key) and not data["lock_out_caller"] and set(before) - set(names):
                raise Problem(
                    "self-lockout",
                    "This takes scopes away from the key making the call; send lock_out_caller: true to confirm.",
                )
            try:
                key_update(key=key, name=cleaned["name"], scopes=scopes, audit=self.audit)
            except IntegrityError:
                raise Problem("conflict", "This tenant already has a key with this name.") from None
            return self.key_response(key_id)

    def _settings_change(self, key: ApiKey, data: dict) -> None:
        """The key's settings page over the API: allowed networks and rate limit (any key),
        allowed origins (Storefront and custom keys), expiry and token lifetime (custom keys),
        through the same services and their checks."""
        if key.kind != KeyKind.CUSTOM and {"expires_at", "token_lifetime"} & data.keys():
            raise Problem("conflict", f"The {key.name} key has no expiry or token lifetime of its own.")
        try:
            if "allowed_networks" in data:
                networks = networks_clean("\n".join(data["allowed_networks"]))
                address = client_ip(self.request)
                if self.is_caller(key) and not data["lock_out_caller"] and not address_allowed(address, networks):
                    raise Problem(
                        "self-lockout",
                        f"These networks leave out {address}, where this call comes from; "
                        "send lock_out_caller: true to confirm.",
                    )
                key_networks_set(key=key, allowed_networks=networks, audit=self.audit)
            if "allowed_origins" in data:
                if key.kind == KeyKind.EMPORIX:
                    raise Problem("conflict", f"The {key.name} key is for servers: it has no allowed origins.")
                key_origins_set(key=key, allowed_origins=data["allowed_origins"], audit=self.audit)
            if "expires_at" in data and data["expires_at"] != key.expires_at:
                key_expiry_set(key=key, expires_at=data["expires_at"], audit=self.audit)
            if "token_lifetime" in data:
                key_token_lifetime_set(key=key, seconds=data["token_lifetime"], audit=self.audit)
            if {"rate_limit", "rate_limit_period"} & data.keys():
                key_rate_limit_set(
                    key=key,
                    limit=data.get("rate_limit", key.rate_limit),
                    period=data.get("rate_limit_period", key.rate_limit_period),
                    audit=self.audit,
                )
        except ValidationError as error:
            raise Problem("invalid-request", "; ".join(error.messages)) from None
        except ValueError as error:
            raise Problem("invalid-request", str(error)) from None

    @extend_schema(operation_id="keys_delete", request=None, responses={204: None})
    def delete(self, request: Request, key_id: str) -> Response:
        key = self.key_to_act_on(key_id)
        if key.kind != KeyKind.CUSTOM:
            raise Problem("conflict", f"The {key.name} key cannot be deleted.")
        if self.is_caller(key):
            raise Problem("self-lockout", "A key cannot delete itself over the API: use another key or the portal.")
        key_delete(key=key, audit=self.audit)
        return Response(status=204)


class KeyRenew(KeyViewMixin, PortalAPIView):
    """A new secret for the key (in the answer, once); the old one keeps working for grace_seconds
    (0: stops now, with its tokens; at most 7 days)."""

    required_scopes = {"POST": KEY_MANAGE}

    @extend_schema(
        operation_id="keys_renew",
        request=s.KeyRenewRequest,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: s.KeyWithSecret},
    )
    @idempotent
    def post(self, request: Request, key_id: str) -> Response:
        data = _valid(s.KeyRenewRequest, request)
        key = self.key_to_act_on(key_id)
        grace = timedelta(seconds=data["grace_seconds"]) if data["grace_seconds"] else None
        if self.is_caller(key) and grace is None and not data["lock_out_caller"]:
            raise Problem(
                "self-lockout",
                "Renewing the calling key now stops its token; give a grace period or send lock_out_caller: true.",
            )
        _, _, secret = key_renew(key=key, grace=grace, audit=self.audit)
        return self.key_response(key_id, secret=secret)


class KeyRetireOldSecret(KeyViewMixin, PortalAPIView):
    """The old secret (still in its grace period after a renew) stops working now."""

    required_scopes = {"POST": KEY_MANAGE}

    @extend_schema(
        operation_id="keys_retire_old_secret",
        request=s.ConfirmRequest,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: s.Key},
    )
    @idempotent
    def post(self, request: Request, key_id: str) -> Response:
        data = _valid(s.ConfirmRequest, request)
        key = self.key_to_act_on(key_id)
        old = list(key.secrets.in_grace())
        if not old:
            raise Problem("conflict", "This key has no old secret in a grace period.")
        if self.is_caller(key) and not data["lock_out_caller"]:
            minted_by = AccessToken.objects.filter(pk=request.auth.token_id).values_list("secret_id", flat=True).first()
            if request.auth.format != "opaque" or minted_by in {secret.pk for secret in old}:
                raise Problem(
                    "self-lockout",
                    "The calling token was issued with the old secret; send lock_out_caller: true to confirm.",
                )
        for secret in old:
            secret_retire(secret=secret, audit=self.audit)
        return self.key_response(key_id)


class KeySwitch(KeyViewMixin, PortalAPIView):
    """Disable a key (its secrets and tokens stop working everywhere; nothing is deleted) or
    enable it again (its earlier tokens stay inactive), as on the key's settings page."""

    required_scopes = {"POST": KEY_MANAGE}
    service = staticmethod(key_disable)

    @idempotent
    def post(self, request: Request, key_id: str) -> Response:
        data = _valid(s.ConfirmRequest, request)
        key = self.key_to_act_on(key_id)
        if self.service is key_disable and self.is_caller(key) and not data["lock_out_caller"]:
            raise Problem(
                "self-lockout", "Disabling the calling key stops its own token; send lock_out_caller: true to confirm."
            )
        self.service(key=key, audit=self.audit)
        return self.key_response(key_id)


class KeyDisable(KeySwitch):
    __doc__ = KeySwitch.__doc__
    service = staticmethod(key_disable)

    @extend_schema(
        operation_id="keys_disable", request=s.ConfirmRequest, parameters=[IDEMPOTENCY_KEY], responses={200: s.Key}
    )
    def post(self, request: Request, key_id: str) -> Response:
        return super().post(request, key_id)


class KeyEnable(KeySwitch):
    __doc__ = KeySwitch.__doc__
    service = staticmethod(key_enable)

    @extend_schema(
        operation_id="keys_enable", request=s.ConfirmRequest, parameters=[IDEMPOTENCY_KEY], responses={200: s.Key}
    )
    def post(self, request: Request, key_id: str) -> Response:
        return super().post(request, key_id)


class KeyReveal(KeyViewMixin, PortalAPIView):
    """The key's current secret, for a token holding portal.secret_reveal and every scope of the
    key (api.grants.may_read_secret, the rule a key's developer grants follow too). Recorded in
    the activity log."""

    required_scopes = {"POST": ("portal.secret_reveal",)}

    @extend_schema(operation_id="keys_reveal", request=None, responses={200: s.Revealed})
    def post(self, request: Request, key_id: str) -> Response:
        key = self.key_to_act_on(key_id)
        secret = key.secrets.current().select_related("key__tenant").first()
        if secret is None:
            raise Problem("conflict", "This key has no current secret.")
        try:
            plaintext = secret_show(secret=secret, purpose="reveal", audit=self.audit)
        except SecretUnreadable:
            raise Problem(
                "conflict", "The secret cannot be decrypted with the configured keys; renew the key."
            ) from None
        return Response({"client_id": key.client_id, "secret": plaintext})


# --- Scope catalogue ------------------------------------------------------------------------------


class ScopeCatalogue(PortalAPIView):
    """The scope catalogue: services with their scopes, deprecated ones flagged."""

    required_scopes = {"GET": KEY_READ}

    @extend_schema(operation_id="scopes_list", responses={200: s.ServiceOut(many=True)})
    def get(self, request: Request) -> Response:
        scopes = Scope.objects.exclude(name__in=OPERATOR_SCOPES).order_by("position", "name")
        services = Service.objects.prefetch_related(Prefetch("scopes", queryset=scopes, to_attr="api_scopes"))
        return Response(s.ServiceOut(services, many=True).data)


# --- Members and invitations ----------------------------------------------------------------------


class GrantingView(PortalAPIView):
    """Members' roles are bounded by what the calling key could do itself (tenants.grants):
    refusals are 403 `role-escalation`, before anything is written or recorded."""

    @property
    def powers(self) -> Powers:
        return key_powers(self.request.auth.scopes, self.tenant)


def _refused(refused: RoleGrantRefused) -> Problem:
    return Problem("role-escalation", str(refused))


class MemberList(PortalAPIView):
    """The tenant's members and their roles."""

    required_scopes = {"GET": MEMBER_READ}

    @extend_schema(operation_id="members_list", responses={200: s.Member(many=True)})
    def get(self, request: Request) -> Response:
        members = Membership.objects.filter(tenant=self.tenant).select_related("user").order_by("user__email")
        return Response(s.Member(members, many=True).data)


class MemberDetail(GrantingView):
    """Change a member's role or remove them; the tenant always keeps an admin. The calling key
    must be able to give both the new role and the member's current one: viewer needs
    portal.key_read, developer also portal.secret_reveal and every scope of every key of the
    tenant, admin every offered scope (else 403 role-escalation)."""

    required_scopes = {"PATCH": MEMBER_MANAGE, "DELETE": MEMBER_MANAGE}

    def member_or_404(self, email: str) -> Membership:
        return get_object_or_404(
            Membership.objects.select_related("user"), tenant=self.tenant, user__email__iexact=email[:254]
        )

    @extend_schema(operation_id="members_update", request=s.MemberRoleRequest, responses={200: s.Member})
    def patch(self, request: Request, email: str) -> Response:
        data = _valid(s.MemberRoleRequest, request)
        member = self.member_or_404(email)
        try:
            member = tenant_services.member_change_role(
                membership=member, role=data["role"], audit=self.audit, grantor=self.powers
            )
        except RoleGrantRefused as refused:
            raise _refused(refused) from None
        except tenant_services.LastAdminError as error:
            raise Problem("conflict", str(error)) from None
        return Response(s.Member(member).data)

    @extend_schema(operation_id="members_remove", request=None, responses={204: None})
    def delete(self, request: Request, email: str) -> Response:
        member = self.member_or_404(email)
        try:
            tenant_services.member_remove(membership=member, audit=self.audit, grantor=self.powers)
        except RoleGrantRefused as refused:
            raise _refused(refused) from None
        except tenant_services.LastAdminError as error:
            raise Problem("conflict", str(error)) from None
        return Response(status=204)


class InvitationList(GrantingView):
    """Invitations to the tenant: list, and invite an address with a role (mailed), which the
    calling key must be able to give (as for a role change; else 403 role-escalation). Accepting
    checks again what the key may give then."""

    required_scopes = {"GET": MEMBER_READ, "POST": MEMBER_MANAGE}

    @extend_schema(operation_id="invitations_list", responses={200: s.InvitationOut(many=True)})
    def get(self, request: Request) -> Response:
        invitations = Invitation.objects.filter(tenant=self.tenant).order_by("email")
        return Response(s.InvitationOut(invitations, many=True).data)

    @extend_schema(
        operation_id="invitations_create",
        request=s.InvitationRequest,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: s.InvitationOut},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = _valid(s.InvitationRequest, request)
        cleaned = _checked(MemberAddForm(data=data, tenant=self.tenant))
        try:
            tenant_limits.invitation_count(tenant=self.tenant, sender=f"key:{self.caller.pk}")
        except tenant_limits.LimitReached as error:
            raise Problem("limit-reached", str(error), headers={"Retry-After": str(error.wait)}) from None
        try:
            invitation = tenant_services.invitation_send(
                tenant=self.tenant,
                email=cleaned["email"],
                role=cleaned["role"],
                accept_url=request.build_absolute_uri(reverse("tenants:invitation_accept")),
                audit=self.audit,
                grantor=self.powers,
            )
        except RoleGrantRefused as refused:
            raise _refused(refused) from None
        except IntegrityError:
            raise Problem("conflict", "This address has been invited already.") from None
        except tenant_services.MAIL_ERRORS:
            raise Problem("busy", "The invitation mail could not be sent; try again later.") from None
        response = Response(s.InvitationOut(invitation).data, status=201)
        response["Location"] = reverse("api:invitation", kwargs={"invitation_id": invitation.public_id})
        return response


class InvitationDetail(PortalAPIView):
    """Cancel an invitation; its link stops working."""

    required_scopes = {"DELETE": MEMBER_MANAGE}

    @extend_schema(operation_id="invitations_cancel", request=None, responses={204: None})
    def delete(self, request: Request, invitation_id: str) -> Response:
        invitation = get_object_or_404(Invitation, tenant=self.tenant, public_id=invitation_id)
        tenant_services.invitation_cancel(invitation=invitation, audit=self.audit)
        return Response(status=204)


# --- Activity -------------------------------------------------------------------------------------


def _entry_data(entry: ActivityEntry) -> dict:
    """An activity entry as the API shows it (s.ActivityOut), as a plain dict."""
    return {
        "created_at": entry.created_at,
        "action": entry.action,
        "action_label": entry.get_action_display(),
        "actor": entry.actor_email,
        "key_name": entry.key_name,
        "key_client_id": entry.key_client_id,
        "details": entry.details,
        "ip_address": entry.ip_address,
    }


class ActivityList(PortalAPIView):
    """The tenant's activity log, newest first, with the page's filters and cursor pages."""

    required_scopes = {"GET": ("portal.activity_read",)}

    @extend_schema(
        operation_id="activity_list",
        parameters=[
            CURSOR,
            LIMIT,
            # Empty filters are refused ("give a value or leave the parameter out"): minLength 1.
            OpenApiParameter("key", {"type": "string", "minLength": 1}, description="Client ID (deleted keys too)"),
            OpenApiParameter("action", OpenApiTypes.STR, enum=Action.values),
            OpenApiParameter(
                "actor", {"type": "string", "minLength": 1}, description="E-mail or API key label, as entries show it"
            ),
            # The activity form's range (2000-01-01 to 2999-12-31), as the document can say it.
            OpenApiParameter("since", {"type": "string", "format": "date", "pattern": "^2[0-9]{3}-"}),
            OpenApiParameter("until", {"type": "string", "format": "date", "pattern": "^2[0-9]{3}-"}),
        ],
        responses={200: s.ActivityPage},
    )
    def get(self, request: Request) -> Response:
        pages = CursorPage("-created_at", "-id")
        pages.get_page_size(request)  # a bad limit is named before the filters, as ever
        params = request.query_params
        filters = {name: params[name] for name in ("key", "action", "actor", "since", "until") if name in params}
        if empty := sorted(name for name, value in filters.items() if not value):
            raise Problem(
                "invalid-request", errors={name: ["Give a value or leave the parameter out."] for name in empty}
            )
        form = ActivityApiFilterForm(filters)
        _checked(form)
        page = pages.paginate_queryset(form.filter(ActivityEntry.objects.filter(tenant=self.tenant)), request)
        return pages.get_paginated_response([_entry_data(entry) for entry in page])


# --- Tenants (operators) --------------------------------------------------------------------------


class OperatorView(PortalAPIView):
    def check_permissions(self, request: Request) -> None:
        super().check_permissions(request)
        if not self.tenant.is_operator:
            raise Problem("insufficient-scope", "Only operator keys manage tenants.")

    def tenant_or_404(self, code: str) -> Tenant:
        return get_object_or_404(Tenant, code=code[:16], is_operator=False)


class TenantList(OperatorView):
    """Operators only: list tenants, create one (with its admin and its two built-in keys, whose
    secrets are in the answer, once)."""

    required_scopes = {"GET": TENANT_MANAGE, "POST": TENANT_MANAGE}

    @extend_schema(operation_id="tenants_list", parameters=[CURSOR, LIMIT], responses={200: s.TenantPage})
    def get(self, request: Request) -> Response:
        pages = CursorPage("code")
        page = pages.paginate_queryset(Tenant.objects.filter(is_operator=False), request)
        return pages.get_paginated_response(s.TenantOut(page, many=True).data)

    @extend_schema(
        operation_id="tenants_create",
        request=s.TenantCreateRequest,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: s.TenantCreated},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = _valid(s.TenantCreateRequest, request)
        cleaned = _checked(TenantCreateForm(data={"code": data["code"], "name": data["name"]}))
        User = get_user_model()
        email = tenant_services.normalize_email(data["admin_email"])
        with transaction.atomic():
            admin = User.objects.filter(email__iexact=email).first() or User.objects.create_user(email=email)
            tenant, keys = tenant_services.tenant_create(
                code=cleaned["code"], name=cleaned["name"], creator=admin, audit=self.audit
            )
            wanted = data.get("management_key")
            if wanted:
                # The key a platform's script then manages the tenant with (the built-in keys
                # hold no Portal API scope); the UI's rules, as for any custom key.
                form = CustomKeyForm(data={"name": wanted["name"], "scopes": wanted["scopes"]}, tenant=tenant)
                if not form.is_valid():
                    errors = {f"management_key.{name}": messages for name, messages in form.errors.items()}
                    raise Problem("invalid-request", "Some fields are not valid; see errors.", errors=errors)
                keys.append(
                    key_create(
                        tenant=tenant,
                        kind=KeyKind.CUSTOM,
                        name=form.cleaned_data["name"],
                        scopes=form.cleaned_data["scopes"],
                        audit=self.audit,
                    )
                )
        body = {
            **s.TenantOut(tenant).data,
            "admin_email": admin.email,
            "keys": [
                {"kind": key.kind, "name": key.name, "client_id": key.client_id, "secret": secret}
                for key, secret in keys
            ],
        }
        response = Response(body, status=201)
        response["Location"] = reverse("api:tenant", kwargs={"code": tenant.code})
        return response


class TenantDetail(OperatorView):
    """Operators only: one tenant."""

    required_scopes = {"GET": TENANT_MANAGE}

    @extend_schema(operation_id="tenants_get", responses={200: s.TenantOut})
    def get(self, request: Request, code: str) -> Response:
        return Response(s.TenantOut(self.tenant_or_404(code)).data)


class TenantDeactivate(OperatorView):
    """Operators only: deactivate a tenant; every key of it is disabled at once."""

    required_scopes = {"POST": TENANT_MANAGE}

    @extend_schema(
        operation_id="tenants_deactivate", request=None, parameters=[IDEMPOTENCY_KEY], responses={200: s.TenantOut}
    )
    @idempotent
    def post(self, request: Request, code: str) -> Response:
        tenant = tenant_services.tenant_deactivate(tenant=self.tenant_or_404(code), audit=self.audit)
        return Response(s.TenantOut(tenant).data)
