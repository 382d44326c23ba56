"""What every management API view shares: the caller (the key behind the token, and its
tenant), per-token rate limits, `Cache-Control: no-store`, keyset cursors, and idempotent POSTs."""

import base64
import binascii
import functools
import json
import re
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, router, transaction
from django.utils import timezone
from django.utils.functional import cached_property
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.views import APIView

from activity.audit import Audit
from kernel import crypto
from apikeys.models import ApiKey
from kernel import ratelimit
from kernel.db import CompiledQuery, compile_once
from kernel.net import client_ip
from tenants.models import Tenant

from .models import IdempotentResponse
from .problems import Problem

IDEMPOTENCY_LIFETIME = timedelta(hours=24)
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50


_KEY_FIELDS = [field.attname for field in ApiKey._meta.concrete_fields]
_TENANT_FIELDS = [field.attname for field in Tenant._meta.concrete_fields]
_CALLER_MARKER = -7300
_caller_queries: dict[str, CompiledQuery] = {}


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
        process: every call needs it)."""
        using = router.db_for_read(ApiKey)
        compiled = _caller_queries.get(using)
        if compiled is None:
            columns = [*_KEY_FIELDS, *(f"tenant__{name}" for name in _TENANT_FIELDS)]
            query = ApiKey.objects.using(using).filter(pk=_CALLER_MARKER).values_list(*columns)
            compiled = _caller_queries[using] = compile_once(query, {"key": _CALLER_MARKER})
        rows = compiled.rows({"key": self.request.auth.key_id})
        if not rows:  # deleted since its token was checked
            raise exceptions.NotAuthenticated()
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


def page_size(request: Request) -> int:
    raw = request.query_params.get("limit", str(DEFAULT_PAGE_SIZE))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise Problem("invalid-request", errors={"limit": [f"A whole number from 1 to {MAX_PAGE_SIZE}."]})
    return int(raw)


def cursor_encode(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def cursor_decode(request: Request, arity: int) -> list[Any] | None:
    """The position a `cursor` query parameter holds (what cursor_encode made), or None."""
    raw = request.query_params.get("cursor")
    if raw is None:
        return None
    try:
        if len(raw) > 500:
            raise ValueError
        values = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        if not isinstance(values, list) or len(values) != arity:
            raise ValueError
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Problem("invalid-cursor", "Use the next_cursor of a previous page.") from None
    return values


def page_response(rows, limit: int, *, render: Callable[[list], list], position: Callable[[Any], list]) -> Response:
    """One page of `rows` (a queryset in cursor order, past the cursor): `limit` rows rendered,
    and the cursor of the last one if more follow. One query."""
    page = list(rows[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return Response({"results": render(page), "next_cursor": cursor_encode(position(page[-1])) if more else None})


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
