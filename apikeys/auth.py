"""Key verification: the keys app's public interface for whatever authenticates API clients
(the token service in `oauth/`). Nothing outside `apikeys` reads secret rows or the key-scope
table; it calls these functions and gets a `VerifiedKey` back.

The rules that live here, once:
- which secrets still work (`live_secret_q`, defined beside the models and used by the token
  check and the access tokens' `active()`): within their own lifetime, of a key that is
  neither disabled nor expired; and which tokens a re-enabled key's past left dead
  (`tokens_valid_q`);
- which scopes a key holds (`held_scope_names`): every offered scope for the Emporix API key,
  the storefront set for the Storefront API key, the chosen ones for a custom key;
- how a Client ID and secret are checked (`key_verify`): one indexed query, a constant-time
  digest comparison against every live secret (or a dummy), never a decryption; and why a
  check failed, for usage counting (`key_authenticate`'s Refusal: one more query, on the
  failure path only);
- when a secret's last use is written (`secret_mark_used`): at most once a minute.

Nothing else is re-exported here: the token service takes its cryptography (bearer tokens and
their digests, JWT signing keys and their encryption at rest) from the kernel (`kernel.crypto`,
which owns all of the portal's cryptography), and the keys app's models from `apikeys.models`.
"""

import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from django.db.models import Aggregate, OuterRef, Q, QuerySet, Subquery, TextField
from django.views.decorators.debug import sensitive_variables

from kernel import crypto, usage
from kernel.db import CompiledSelect
from scopes.models import PORTAL_SERVICE_KEY, Scope

from .models import ApiKey, ApiSecret, KeyKind, live_secret_q, tokens_valid_q
from .networks import address_allowed
from .services import network_refusal_record, secret_plaintext

LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class VerifiedKey:
    """A key whose Client ID (and, for `key_verify`, secret) checked out, as far as a token
    service needs it: no ciphertext, no digest, no model instance."""

    key_id: int
    client_id: str
    kind: str
    tenant_id: int
    tenant_code: str
    secret_id: int  # the secret that authenticated (or, for a Storefront key, mints)
    scopes: tuple[str, ...]  # the scopes the key holds
    scope_set: frozenset[str]
    token_lifetime: int | None = None  # the key's own access-token lifetime, if it has one
    secret_public_id: str = ""  # the secret's public id (a JWT's `cred_id` claim), never the secret
    token_format: str = ""  # the key's choice of access-token format; "" is the deployment's
    rate_limit: int | None = None  # the key's own rate limit (apikeys.limits), if it has one
    rate_limit_period: str = ""


# --- Scopes a key holds -----------------------------------------------------------------------
# The built-in keys' lists (174 names for the Emporix API key) are derived from the catalogue
# and held in process memory for SCOPE_CACHE_SECONDS: a catalogue change reaches other workers
# within that time (and this process at once: apps.py connects scope_cache_clear to Scope's
# signals), without a cache round trip per token request.

SCOPE_CACHE_SECONDS = 60
_builtin_scopes: dict[str, tuple[float, tuple[str, ...], frozenset[str]]] = {}


def scope_cache_clear(**_: Any) -> None:
    from . import scope_summary  # the keys page's summaries of scope sets rest on the catalogue too

    _builtin_scopes.clear()
    scope_summary.clear()


def _builtin(kind: str) -> tuple[tuple[str, ...], frozenset[str]]:
    cached = _builtin_scopes.get(kind)
    if cached is not None and time.monotonic() - cached[0] < SCOPE_CACHE_SECONDS:
        return cached[1], cached[2]
    # Every offered scope but the management API's: the shop's key cannot manage keys.
    queryset = Scope.objects.offered().exclude(service__key=PORTAL_SERVICE_KEY)
    if kind == KeyKind.STOREFRONT:
        queryset = queryset.filter(storefront=True)
    names = tuple(queryset.values_list("name", flat=True))
    _builtin_scopes[kind] = (time.monotonic(), names, frozenset(names))
    return names, frozenset(names)


def builtin_scope_names(kind: str) -> tuple[str, ...]:
    """The scopes a built-in key of `kind` holds, in catalogue order."""
    return _builtin(KeyKind(kind))[0]


def _held(kind: str, custom_names: str | None) -> tuple[tuple[str, ...], frozenset[str]]:
    if kind != KeyKind.CUSTOM:
        return _builtin(kind)
    names = tuple(sorted((custom_names or "").split()))
    return names, frozenset(names)


def held_scope_names(key: ApiKey) -> tuple[str, ...]:
    """The names of the scopes `key` holds: the catalogue's for the built-in kinds (cached),
    the chosen ones, sorted, for a custom key (from the query's `custom_scope_names()`
    annotation if it has one; else one query, or none if prefetched)."""
    if "custom_scopes" in key.__dict__:
        return _held(key.kind, key.custom_scopes)[0]
    if key.kind != KeyKind.CUSTOM:
        return builtin_scope_names(key.kind)
    return tuple(sorted(scope.name for scope in key.scopes.all()))


# --- The authentication query -----------------------------------------------------------------


class _SpaceJoined(Aggregate):
    """STRING_AGG(name, ' ') on PostgreSQL, GROUP_CONCAT(name, ' ') on SQLite."""

    function = "STRING_AGG"
    template = "%(function)s(%(expressions)s, ' ')"
    output_field = TextField()

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, function="GROUP_CONCAT", **extra)


class _Row(NamedTuple):
    """One live secret of the key, with what verification needs of its key and tenant. The
    field names are the query's columns, in order."""

    secret_id: int
    digest: bytes
    last_used_at: datetime | None
    expires_at: datetime | None
    key_id: int
    kind: str
    tenant_id: int
    tenant_code: str
    custom_scopes: str | None
    allowed_networks: str
    token_lifetime: int | None
    secret_public_id: Any
    token_format: str
    rate_limit: int | None
    rate_limit_period: str
    key_expires_at: datetime | None
    renew_by: datetime | None


_COLUMNS = {
    "secret_id": "pk",
    "digest": "digest",
    "last_used_at": "last_used_at",
    "expires_at": "expires_at",
    "key_id": "key_id",
    "kind": "key__kind",
    "tenant_id": "key__tenant_id",
    "tenant_code": "key__tenant__code",
    "custom_scopes": "custom_scopes",
    "allowed_networks": "key__allowed_networks",
    "token_lifetime": "key__token_lifetime",
    "secret_public_id": "public_id",
    "token_format": "key__token_format",
    "rate_limit": "key__rate_limit",
    "rate_limit_period": "key__rate_limit_period",
    "key_expires_at": "key__expires_at",
    "renew_by": "key__renew_by",
}
assert tuple(_COLUMNS) == _Row._fields


def custom_scope_names(key_ref: str = "pk") -> Subquery:
    """A custom key's scope names as one space-separated column (NULL for none), for
    annotating a query of keys (`key_ref`: the path to the key's id) instead of a prefetch."""
    return Subquery(
        Scope.objects.filter(apikeys=OuterRef(key_ref))
        .order_by()
        .values("apikeys")
        .annotate(names=_SpaceJoined("name"))
        .values("names")
    )


def _rows_queryset(client_id: str, now: datetime) -> QuerySet:
    # A custom key's scope names, joined into the same query as one column.
    custom_scopes = custom_scope_names("key_id")
    return (
        ApiSecret.objects.filter(live_secret_q(now), key__client_id=client_id)
        .annotate(custom_scopes=custom_scopes)
        .order_by()
        .values_list(*_COLUMNS.values())
    )


# Building that queryset costs more CPU than running it, on every token request: it is
# compiled once per database (kernel.db, the fast path) with marker values, then run with the
# real Client ID and time.
_live_query = CompiledSelect(
    "apikeys.auth.live_rows",
    ApiSecret,
    _rows_queryset,
    {"client_id": "\x01client-id\x01", "now": datetime(2000, 1, 1, tzinfo=UTC)},
)
_NO_SUCH_ID = "-" * crypto.CLIENT_ID_LENGTH  # not well-formed, so no key has it


def _live_rows(client_id: str | None, now: datetime) -> list[_Row]:
    """One indexed query: the key's live secrets joined with the key and its tenant (and a
    custom key's scope names). A malformed Client ID (which could hold bytes PostgreSQL
    refuses) is replaced by one that matches nothing, so that it costs the same query."""
    if not client_id or not crypto.is_well_formed_client_id(client_id):
        client_id = _NO_SUCH_ID
    return [_Row._make(values) for values in _live_query.rows({"client_id": client_id, "now": now})]


def secret_mark_used(*, secret_id: int, key_id: int, last_used_at: datetime | None, now: datetime) -> None:
    """Record that a secret (and so its key) was just used, writing at most once a minute per
    secret so that a busy key does not write on every request. `last_used_at` is what the
    caller last read; the UPDATE re-checks it, so concurrent requests write once."""
    if last_used_at is not None and now - last_used_at < LAST_USED_RESOLUTION:
        return
    _marked_used(secret_id, now)
    updated = (
        ApiSecret.objects.filter(pk=secret_id)
        .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION))
        .update(last_used_at=now)
    )
    if updated:
        ApiKey.objects.filter(pk=key_id).update(last_used_at=now)


def _verified(row: _Row, client_id: str, now: datetime) -> VerifiedKey:
    secret_mark_used(secret_id=row.secret_id, key_id=row.key_id, last_used_at=row.last_used_at, now=now)
    return _key_of(row, client_id)


def _key_of(row: _Row, client_id: str) -> VerifiedKey:
    scopes, scope_set = _held(row.kind, row.custom_scopes)
    return VerifiedKey(
        key_id=row.key_id,
        client_id=client_id,
        kind=row.kind,
        tenant_id=row.tenant_id,
        tenant_code=row.tenant_code,
        secret_id=row.secret_id,
        scopes=scopes,
        scope_set=scope_set,
        token_lifetime=row.token_lifetime,
        # SQLite's raw cursor returns the UUID as 32 hex digits, PostgreSQL as a UUID.
        secret_public_id=str(uuid.UUID(str(row.secret_public_id))),
        token_format=row.token_format,
        rate_limit=row.rate_limit,
        rate_limit_period=row.rate_limit_period,
    )


class Refusal(NamedTuple):
    """Why a key check failed, for usage counting (never for the client's answer, which is the
    same for every failure): a kernel.usage outcome and the key it was for, None where no key
    can be named (an unknown Client ID); the secret only where one can be named."""

    outcome: str
    key_id: int | None = None
    tenant_id: int | None = None
    secret_id: int | None = None


def _refusal(client_id: str | None, now: datetime) -> Refusal:
    """Why no live secret of `client_id` passed: its key disabled or expired, a wrong secret,
    or no such key. One query, made on every failure (whether or not the key exists, so that
    its timing tells no more than the answer), never on a success."""
    if not client_id or not crypto.is_well_formed_client_id(client_id):
        client_id = _NO_SUCH_ID
    row = ApiKey.objects.filter(client_id=client_id).values_list("pk", "tenant_id", "disabled_at", "expires_at").first()
    if row is None:
        return Refusal(usage.UNKNOWN_CLIENT)
    key_id, tenant_id, disabled_at, expires_at = row
    if disabled_at is not None:
        return Refusal(usage.KEY_DISABLED, key_id, tenant_id)
    if expires_at is not None and expires_at <= now:
        return Refusal(usage.KEY_EXPIRED, key_id, tenant_id)
    return Refusal(usage.WRONG_SECRET, key_id, tenant_id)


def _network_refusal(row: _Row) -> Refusal:
    return Refusal(usage.NETWORK_REFUSED, row.key_id, row.tenant_id, row.secret_id)


def _network_allows(row: _Row, address: str | None, now: datetime) -> bool:
    """The key's network rule (apikeys.networks); a refusal is counted, not logged per request."""
    if not row.allowed_networks or address is None or address_allowed(address, row.allowed_networks):
        return True
    network_refusal_record(key_id=row.key_id, address=address, now=now)
    return False


@sensitive_variables("client_secret", "presented")
def key_authenticate(
    *, client_id: str | None, client_secret: str | None, now: datetime, address: str | None = None
) -> VerifiedKey | Refusal:
    """The key with this Client ID if `client_secret` is one of its live secrets and the key
    allows `address` (its network allowlist), else why not (a Refusal).

    Guarantees: one query on a success, two on a failure whatever the input; the presented
    secret's digest is compared in constant time against every live secret of the key (or
    against a dummy when there is none), so that neither timing nor the answer tells an unknown
    Client ID from a wrong secret; the secret is never decrypted, logged or kept. Records the
    secret's last use."""
    rows = _live_rows(client_id, now)
    presented = crypto.digest(client_secret or "")
    index = crypto.matching_digest(presented, [bytes(row.digest) for row in rows])
    if index is None or not client_secret or not client_id:
        if not rows:
            key_forget(client_id)
        return _refusal(client_id, now)
    if not _network_allows(rows[index], address, now):
        return _network_refusal(rows[index])
    _keep(client_id, rows)
    return _verified(rows[index], client_id, now)


# --- Keys kept per process, for the token endpoint ---------------------------------------------
# A client asks for tokens again and again with the same Client ID and secret. After a full
# check passed, this process keeps the key's live secret rows (their digests, as the database
# has them; never a secret) by Client ID, so that the next token request can skip the lookup.
# Nothing is decided on a kept row alone: the token it leads to is INSERTed only if, in that same
# statement, the secret is still live and the key still says what was kept
# (`key_unchanged_guard`); otherwise the caller forgets the entry and runs the full check. So a
# key disabled, renewed, narrowed or restricted to other networks, in this process or any other,
# issues no token from a kept row. A presented secret that matches no kept digest takes the full
# check (a wrong secret costs what it always cost, whether or not its Client ID is kept).

KEPT_MAX = 10_000
_kept: dict[str, tuple[_Row, ...]] = {}
_kept_lock = threading.Lock()
# The last use of a secret this process wrote (or found written), so that a kept row's old
# last_used_at does not make every request try the write.
_marked: dict[int, datetime] = {}


def _keep(client_id: str, rows: list[_Row]) -> None:
    with _kept_lock:
        if client_id not in _kept and len(_kept) >= KEPT_MAX:
            del _kept[next(iter(_kept))]  # the oldest
        _kept[client_id] = tuple(rows)


def key_forget(client_id: str | None) -> None:
    """Drop what this process keeps of the key with this Client ID."""
    _kept.pop(client_id or "", None)


def kept_clear() -> None:
    with _kept_lock:
        _kept.clear()
        _marked.clear()


def _marked_used(secret_id: int, now: datetime) -> None:
    if len(_marked) >= 2 * KEPT_MAX:
        _marked.clear()
    _marked[secret_id] = now


def _row_live(row: _Row, now: datetime) -> bool:
    """`live_secret_q` on a kept row, for the parts that depend on the time."""
    return all(moment is None or moment > now for moment in (row.expires_at, row.key_expires_at, row.renew_by))


class KeptKey(NamedTuple):
    """A key verified against a kept row: to be confirmed by `key_unchanged_guard`."""

    key: VerifiedKey
    row: _Row


@sensitive_variables("client_secret", "presented")
def key_kept(
    *, client_id: str | None, client_secret: str | None, now: datetime, address: str | None = None
) -> KeptKey | None:
    """The key if this process keeps it and `client_secret` matches one of its kept live secrets
    (constant-time, as the full check compares), and its kept network rule allows `address`;
    else None, and the full check (`key_authenticate`) decides. No query, nothing recorded."""
    rows = _kept.get(client_id or "")
    if not rows or not client_secret or not client_id:
        return None
    live = [row for row in rows if _row_live(row, now)]
    index = crypto.matching_digest(crypto.digest(client_secret), [bytes(row.digest) for row in live])
    if index is None:
        return None
    row = live[index]
    if row.allowed_networks and address is not None and not address_allowed(address, row.allowed_networks):
        return None  # refused, perhaps by a rule that changed since: the full check records it
    return KeptKey(_key_of(row, client_id), row)


def key_kept_used(kept: KeptKey, now: datetime) -> None:
    """Record the kept secret's use (at most once a minute, as `secret_mark_used`)."""
    row = kept.row
    seen = max(filter(None, [row.last_used_at, _marked.get(row.secret_id)]), default=None)
    secret_mark_used(secret_id=row.secret_id, key_id=row.key_id, last_used_at=seen, now=now)


def _unchanged_queryset(
    *,
    secret_id: int,
    digest: bytes,
    client_id: str,
    now: datetime,
    kind: str,
    tenant_code: str,
    allowed_networks: str,
    token_format: str,
    rate_limit_period: str,
    token_lifetime: int | None,
    rate_limit: int | None,
    custom_scopes: str | None,
) -> QuerySet:
    secrets = ApiSecret.objects.filter(
        live_secret_q(now),
        pk=secret_id,
        digest=digest,
        key__client_id=client_id,
        key__kind=kind,
        key__tenant__code=tenant_code,
        key__allowed_networks=allowed_networks,
        key__token_format=token_format,
        key__rate_limit_period=rate_limit_period,
    )
    for name, value in (("key__token_lifetime", token_lifetime), ("key__rate_limit", rate_limit)):
        secrets = secrets.filter(**({name: value} if value is not None else {f"{name}__isnull": True}))
    # The same subquery as the lookup's, so that an unchanged set of scopes comes out in the same
    # order (a different order only costs a full check: equal strings are equal sets).
    secrets = secrets.annotate(custom_scopes=custom_scope_names("key_id"))
    if custom_scopes is None:
        secrets = secrets.filter(custom_scopes__isnull=True)
    else:
        secrets = secrets.filter(custom_scopes=custom_scopes)
    return secrets.order_by().values_list("pk")


_unchanged_query = CompiledSelect(
    "apikeys.auth.key_unchanged",
    ApiSecret,
    _unchanged_queryset,
    {
        "secret_id": -7001,
        "digest": b"\x01kept-digest\x01",
        "client_id": "\x01kept-client-id\x01",
        "now": datetime(2000, 1, 1, tzinfo=UTC),
        "kind": "\x01kept-kind\x01",
        "tenant_code": "\x01kept-tenant\x01",
        "allowed_networks": "\x01kept-networks\x01",
        "token_format": "\x01kept-format\x01",
        "rate_limit_period": "\x01kept-period\x01",
        "token_lifetime": 2_000_000_002,  # within the positive fields' range
        "rate_limit": 2_000_000_003,
        "custom_scopes": "\x01kept-scopes\x01",
    },
)


# The kept row's fields that the guard compares as they are (beside its secret, Client ID and time).
_UNCHANGED_FIELDS = (
    "kind",
    "tenant_code",
    "allowed_networks",
    "token_format",
    "rate_limit_period",
    "token_lifetime",
    "rate_limit",
    "custom_scopes",
)


def key_unchanged_values(kept: KeptKey, now: datetime) -> dict[str, Any]:
    row = kept.row
    return {
        "secret_id": row.secret_id,
        "digest": bytes(row.digest),
        "client_id": kept.key.client_id,
        "now": now,
        **{name: getattr(row, name) for name in _UNCHANGED_FIELDS},
    }


def key_unchanged_guard(kept: KeptKey, now: datetime) -> tuple[str, list[Any]]:
    """SQL and parameters of a query that finds the kept secret only if it is still live at
    `now` and its key (and tenant) still hold exactly what was kept: for the caller to put
    under EXISTS in the statement that acts on the kept key."""
    values = key_unchanged_values(kept, now)
    compiled = _unchanged_query.compiled(values)
    return compiled.sql, compiled.bind(values)


def key_verify(
    *, client_id: str | None, client_secret: str | None, now: datetime, address: str | None = None
) -> VerifiedKey | None:
    """`key_authenticate` without the reason of a failure: the key, or None."""
    found = key_authenticate(client_id=client_id, client_secret=client_secret, now=now, address=address)
    return found if isinstance(found, VerifiedKey) else None


def storefront_key_authenticate(
    *, client_id: str | None, tenant_code: str | None, now: datetime, address: str | None = None
) -> VerifiedKey | Refusal:
    """The Storefront API key of tenant `tenant_code` with this Client ID, if it has a live
    secret (no secret is presented: the anonymous login is public, as on Emporix) and allows
    `address`; else why not (a Refusal). The secret that mints is the current one, else the
    longest-lived old one."""
    rows = [
        row for row in _live_rows(client_id, now) if row.kind == KeyKind.STOREFRONT and row.tenant_code == tenant_code
    ]
    if not rows or not client_id or not tenant_code:
        refusal = _refusal(client_id, now)
        # A live key of another kind or tenant is not one this login knows.
        return Refusal(usage.UNKNOWN_CLIENT) if refusal.outcome == usage.WRONG_SECRET else refusal
    rows.sort(key=lambda row: (row.expires_at is not None, -(row.expires_at.timestamp() if row.expires_at else 0)))
    if not _network_allows(rows[0], address, now):
        return _network_refusal(rows[0])
    return _verified(rows[0], client_id, now)


def storefront_key_find(
    *, client_id: str | None, tenant_code: str | None, now: datetime, address: str | None = None
) -> VerifiedKey | None:
    """`storefront_key_authenticate` without the reason of a failure: the key, or None."""
    found = storefront_key_authenticate(client_id=client_id, tenant_code=tenant_code, now=now, address=address)
    return found if isinstance(found, VerifiedKey) else None


class TokenKey(NamedTuple):
    """The key behind a self-contained access token (a JWT), as a resource needs it."""

    key_id: int
    tenant_id: int
    key_name: str
    rate_limit: int | None  # the key's own rate limit (apikeys.limits)
    rate_limit_period: str
    secret_id: int


def token_key_find(
    *,
    secret_public_id: uuid.UUID,
    client_id: str,
    tenant_code: str,
    issued: datetime,
    now: datetime,
    unless: Any = None,
) -> TokenKey | None:
    """The key of the secret `secret_public_id` if a token it minted at `issued` for `client_id`
    of tenant `tenant_code` still authorizes now: the secret is live (its key neither disabled
    nor expired), still of that Client ID and tenant, and the token is not from before the key
    was last enabled again. `unless`: the caller's own reason to refuse, an expression on the
    secret's row (the token service passes "its jti is revoked"). One query."""
    secrets = ApiSecret.objects.filter(
        live_secret_q(now),
        tokens_valid_q(issued=issued),
        public_id=secret_public_id,
        key__client_id=client_id,
        key__tenant__code=tenant_code,
    )
    if unless is not None:
        secrets = secrets.exclude(unless)
    row = (
        secrets.order_by()
        .values_list("key_id", "key__tenant_id", "key__name", "key__rate_limit", "key__rate_limit_period", "pk")
        .first()
    )
    return TokenKey._make(row) if row is not None else None


def current_secret_plaintext(key: ApiKey) -> str | None:
    """The key's current secret, decrypted, for the portal's own Try it, which sends the same
    token request a client would. Not part of authentication (that never decrypts); the caller
    has checked that the user may see the secret. Raises SecretUnreadable."""
    current = key.secrets.current().first()
    return secret_plaintext(current) if current else None
