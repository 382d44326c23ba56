"""What every management API view shares: the caller (the key behind the token, and its
tenant), per-token rate limits, `Cache-Control: no-store`, cursor pages (DRF's), and idempotent POSTs."""

import base64
import functools
import json
import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib import parse

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, router, transaction
from django.db.models import Field, Model, QuerySet
from django.utils import timezone
from django.utils.functional import cached_property
from rest_framework import exceptions
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.views import APIView

from activity.audit import Audit
from apikeys.models import ApiKey
from kernel import crypto, ratelimit
from kernel.db import CompiledSelect
from kernel.net import client_ip
from tenants.models import Tenant

from .models import IdempotentResponse
from .problems import Problem

IDEMPOTENCY_LIFETIME = timedelta(hours=24)
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50

_KEY_FIELDS = [field.attname for field in ApiKey._meta.concrete_fields]
_TENANT_FIELDS = [field.attname for field in Tenant._meta.concrete_fields]


def _caller_queryset(key: int) -> QuerySet:
    return ApiKey.objects.filter(pk=key).values_list(*_KEY_FIELDS, *(f"tenant__{name}" for name in _TENANT_FIELDS))


# Every call reads its caller: the query is compiled once per process (kernel.db, the fast path).
_caller_query = CompiledSelect("api.base.caller", ApiKey, _caller_queryset, {"key": -7300})


class PortalAPIView(APIView):
    """A management API view. `required_scopes` maps each method to the scopes any one of
    which lets a token call it (api.auth.HasScope)."""

    required_scopes: dict[str, tuple[str, ...]] = {}

    def check_permissions(self, request: Request) -> None:
        # Every authenticated call counts against its token's key, refused ones too.
        if request.auth is not None:
            self._rate_limit(request)
        super().check_permissions(request)

    def _rate_limit(self, request: Request) -> None:
        limit, window = settings.API_RATE_LIMIT_PER_TOKEN, settings.API_RATE_LIMIT_WINDOW
        counter = ratelimit.Counter("api:key", (request.auth.client_id,), limit)
        count, reset = ratelimit.hit_count(counter, window=window, now=time.time())
        request.rate_limit_headers = {
            "RateLimit-Policy": f'"token";q={limit};w={window}',
            "RateLimit": f'"token";r={max(0, limit - count)};t={reset}',
        }
        if count > limit:
            raise exceptions.Throttled(wait=reset)

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        for name, value in getattr(request, "rate_limit_headers", {}).items():
            response[name] = value
        if response.status_code == 429:
            response.setdefault("Retry-After", response.get("RateLimit", "t=60").rpartition("t=")[2])
        # Nothing the API answers belongs in a cache: many answers hold secrets or who-did-what.
        response["Cache-Control"] = "no-store"
        return response

    @cached_property
    def caller(self) -> ApiKey:
        """The key whose token makes this call, with its tenant (one query, compiled once per
        process by kernel.db: every call needs it)."""
        rows = _caller_query.rows({"key": self.request.auth.key_id})
        if not rows:  # deleted since its token was checked
            raise exceptions.NotAuthenticated()
        using = router.db_for_read(ApiKey)
        key = ApiKey.from_db(using, _KEY_FIELDS, rows[0][: len(_KEY_FIELDS)])
        key.tenant = Tenant.from_db(using, _TENANT_FIELDS, rows[0][len(_KEY_FIELDS) :])
        return key

    @property
    def tenant(self) -> Tenant:
        """The tenant this call acts on: always the token's own."""
        return self.caller.tenant

    @property
    def audit(self) -> Audit:
        return Audit(actor=None, address=client_ip(self.request._request), actor_key=self.caller)


class CursorPage(CursorPagination):
    """DRF's cursor pagination as the API documents it. `limit`: 1 to MAX_PAGE_SIZE (default
    DEFAULT_PAGE_SIZE); anything else is a 400 invalid-request, where DRF would quietly use the
    default. `cursor`: the `next_cursor` of the previous page; anything this API did not issue
    is a 400 invalid-cursor (DRF answers 404, and would hand an unchecked position to the
    database). A page is `{"results": [...], "next_cursor": "..." or null}`: forward only.

    Positions are DRF's: the value of the first ordering field, with an offset past the rows
    that share it (so the ordering's later fields only break ties). The cursor is DRF's query
    string (`p=<position>&o=<offset>`) in URL-safe base64 without padding, so that a client
    can put it into a URL as it is."""

    cursor_query_param = "cursor"
    page_size_query_param = "limit"
    page_size = DEFAULT_PAGE_SIZE
    max_page_size = MAX_PAGE_SIZE
    template = None  # no browsable API

    def __init__(self, *ordering: str) -> None:
        self.ordering = ordering

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param, str(DEFAULT_PAGE_SIZE))
        if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_PAGE_SIZE):
            raise Problem("invalid-request", errors={"limit": [f"A whole number from 1 to {MAX_PAGE_SIZE}."]})
        return int(raw)

    def paginate_queryset(self, queryset: QuerySet, request: Request, view: APIView | None = None) -> list:
        self.position_field = _ordering_field(queryset.model, self.ordering[0])
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request: Request) -> Cursor | None:
        raw = request.query_params.get(self.cursor_query_param)
        if raw is None:
            return None
        try:
            if not 0 < len(raw) <= MAX_CURSOR:
                raise ValueError
            text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("ascii")
            # Strict: an earlier cursor format (base64 JSON) or anything else is no query string.
            tokens = parse.parse_qs(text, keep_blank_values=True, strict_parsing=True, max_num_fields=2)
            if not tokens.keys() <= {"o", "p"} or any(len(values) != 1 for values in tokens.values()):
                raise ValueError  # "r" too: the API gives no previous pages
            offset = tokens.get("o", ["0"])[0]
            if not (offset.isascii() and offset.isdigit() and int(offset) <= self.offset_cutoff):
                raise ValueError  # DRF would cap it, and so repeat pages instead of refusing
            position = tokens.get("p", [None])[0]
            if position is not None:
                self._position_value(position)
        except (ValueError, ValidationError):  # binascii.Error and UnicodeError are ValueErrors
            raise Problem("invalid-cursor", "Use the next_cursor of a previous page.") from None
        return Cursor(offset=int(offset), reverse=False, position=position)

    def _position_value(self, position: str) -> Any:
        """The value a position stands for, if it is one this API could have issued: what the
        ordering field takes (in range for the database), written as str() writes it; never
        negative (ids count from 1); a time in UTC, as the database gives them (another offset
        could move a time past year 1 or 9999 on its way to the database)."""
        value = self.position_field.to_python(position)
        self.position_field.run_validators(value)
        if str(value) != position:
            raise ValueError
        if (isinstance(value, int) and value < 0) or (isinstance(value, datetime) and value.utcoffset() != ZERO):
            raise ValueError
        return value

    def encode_cursor(self, cursor: Cursor) -> str:
        """The cursor itself (DRF returns the URL of the next page)."""
        tokens = {"p": cursor.position} if cursor.position is not None else {}
        if cursor.offset:
            tokens["o"] = str(cursor.offset)
        return base64.urlsafe_b64encode(parse.urlencode(tokens).encode()).decode().rstrip("=")

    def get_paginated_response(self, data: list) -> Response:
        return Response({"results": data, "next_cursor": self.get_next_link()})

    # Pages read without a queryset: the management API's key pages run a query compiled once
    # (api.views._key_page), which paginate_queryset cannot filter, order and slice. The
    # ordering is then a unique field, in ascending order: a cursor is a position, no offset.

    def keyset_position(self, request: Request, model: type[Model]) -> Any | None:
        """The value of the (unique) ordering field after which the page starts, or None."""
        self.position_field = _ordering_field(model, self.ordering[0])
        cursor = self.decode_cursor(request)
        if cursor is None:
            return None
        if cursor.offset or cursor.position is None:
            raise Problem("invalid-cursor", "Use the next_cursor of a previous page.")
        return self.position_field.to_python(cursor.position)  # checked by decode_cursor

    def keyset_response(self, rows: list, limit: int, data: Callable[[list], list]) -> Response:
        """The page of the first `limit` of `rows` (read with limit + 1, past the position)."""
        page = rows[:limit]
        following = None
        if len(rows) > limit:
            position = str(getattr(page[-1], self.ordering[0]))
            following = self.encode_cursor(Cursor(offset=0, reverse=False, position=position))
        return Response({"results": data(page), "next_cursor": following})


MAX_CURSOR = 500
ZERO = timedelta(0)


def _ordering_field(model: type[Model], name: str) -> Field:
    name = name.lstrip("-")
    return model._meta.pk if name == "pk" else model._meta.get_field(name)


# --- Idempotency-Key ----------------------------------------------------------------------------

MAX_IDEMPOTENCY_KEY = 255
IDEMPOTENCY_KEY_FORM = re.compile(r"[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?")  # printable ASCII, no outer spaces


class _Discard(Exception):
    """An error answer: nothing to remember, so that a retry may succeed."""

    def __init__(self, response: Response) -> None:
        self.response = response


def idempotent(handler: Callable[..., Response]) -> Callable[..., Response]:
    """A POST handler that honours `Idempotency-Key`: the first request's answer (success only)
    is stored for IDEMPOTENCY_LIFETIME and replayed to every retry with the same key from the
    same API key, with `Idempotent-Replayed: true`. The record is inserted in the same
    transaction as the effect, so of two concurrent requests with one key the second waits on
    the unique index until the first commits, then replays its answer: one effect. A key
    reused for another request (method, path or body differ) is refused (422)."""

    @functools.wraps(handler)
    def wrapper(view: PortalAPIView, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return handler(view, request, *args, **kwargs)
        if not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY or not IDEMPOTENCY_KEY_FORM.fullmatch(key):
            raise Problem(
                "invalid-request",
                errors={"Idempotency-Key": [f"1 to {MAX_IDEMPOTENCY_KEY} printable ASCII characters."]},
            )
        fingerprint = crypto.digest(
            json.dumps([request.method, request.path, request.data], sort_keys=True, default=str)
        )
        now = timezone.now()
        caller_id = request.auth.key_id
        # Expired answers go (anyone's: one indexed DELETE), so a key is free again after 24 h.
        IdempotentResponse.objects.filter(created_at__lte=now - IDEMPOTENCY_LIFETIME).delete()
        try:
            with transaction.atomic():
                record = IdempotentResponse.objects.create(
                    caller_id=caller_id, idempotency_key=key, fingerprint=fingerprint, created_at=now
                )
                response = handler(view, request, *args, **kwargs)
                if response.status_code >= 400:
                    raise _Discard(response)
                record.status = response.status_code
                record.location = response.get("Location", "")
                body = json.dumps(response.data, cls=JSONEncoder)  # as the renderer writes it
                record.ciphertext, record.encryption_key_id = crypto.encrypt(body, binding=record.binding)
                record.save(update_fields=["status", "location", "ciphertext", "encryption_key_id"])
            return response
        except _Discard as discarded:
            return discarded.response
        except IntegrityError:
            # Another request with this key was first (PostgreSQL names the constraint in the
            # error, SQLite only its columns): replay it if it is there; else it was another
            # integrity error, the handler's own.
            first = IdempotentResponse.objects.filter(caller_id=caller_id, idempotency_key=key).first()
            if first is None:
                raise
        if not crypto.digests_match(bytes(first.fingerprint), fingerprint):
            raise Problem("idempotency-key-reused", "Use a new Idempotency-Key for a different request.")
        try:
            body = crypto.decrypt(bytes(first.ciphertext), key_id=first.encryption_key_id, binding=first.binding)
        except crypto.DecryptionError:  # stored under an encryption key no longer configured
            raise Problem(
                "conflict",
                "The first answer to this Idempotency-Key cannot be decrypted with the configured encryption "
                "keys. Its request took effect: read the resource instead of retrying.",
            ) from None
        replay = Response(json.loads(body), status=first.status)
        if first.location:
            replay["Location"] = first.location
        replay["Idempotent-Replayed"] = "true"
        return replay

    return wrapper
