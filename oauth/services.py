"""The token service: client authentication, token issuing, introspection, revocation and
the Storefront anonymous login. Views parse HTTP and call these functions; Try it calls the
same functions, so both go through one code path.

Every function takes `now` (default: timezone.now()) so that tests can move the clock.
Errors are raised as OAuthError and turned into RFC 6749 section 5.2 JSON by the callers.
"""

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connections, router
from django.db.models import Aggregate, OuterRef, Q, Subquery, TextField
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.debug import sensitive_variables

from apikeys import crypto
from apikeys.models import ApiSecret, KeyKind
from apikeys.services import secret_mark_used
from portal import ratelimit
from scopes.models import Scope

from .models import AccessToken, TokenKind, new_session_id

REALM = 'Basic realm="API Key Portal"'


@dataclass
class Outcome:
    """An HTTP answer of the token service: status, JSON body and extra headers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class OAuthError(Exception):
    def __init__(self, status: int, error: str, description: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(error)
        self.outcome = Outcome(status, {"error": error, "error_description": description}, headers or {})


def invalid_request(description: str) -> OAuthError:
    return OAuthError(400, "invalid_request", description)


def invalid_client() -> OAuthError:
    """The one answer to every failed client authentication: unknown Client ID, wrong,
    retired or expired secret, deleted key, malformed credentials."""
    return OAuthError(401, "invalid_client", "Client authentication failed.", {"WWW-Authenticate": REALM})


# --- Brute-force limits ---------------------------------------------------------------------
# Fixed windows in Django's cache (locmem or Redis): a counter per Client ID and per client
# address and window, created with cache.add and bumped with cache.incr. The check runs
# before the secret is verified, so during a lockout even the right secret gets 429; the
# window's end (Retry-After) frees it, so nobody is locked out for good.


def _counters(client_id: str | None, address: str) -> list[ratelimit.Counter]:
    return [
        ratelimit.Counter("oauth:fail:c", client_id or "", settings.AUTH_FAILURE_LIMIT_PER_CLIENT),
        ratelimit.Counter("oauth:fail:a", address, settings.AUTH_FAILURE_LIMIT_PER_ADDRESS),
    ]


def limit_check(client_id: str | None, address: str, now: datetime) -> None:
    """Raise 429 if this Client ID or address has failed too often in the current window."""
    wait = ratelimit.retry_after(
        _counters(client_id, address), window=settings.AUTH_FAILURE_WINDOW, now=now.timestamp()
    )
    if wait is not None:
        raise OAuthError(
            429,
            "too_many_requests",
            "Too many failed authentication attempts; try again later.",
            {"Retry-After": str(wait)},
        )


def limit_fail(client_id: str | None, address: str, now: datetime) -> None:
    ratelimit.record_failure(_counters(client_id, address), window=settings.AUTH_FAILURE_WINDOW, now=now.timestamp())


# --- Scopes -----------------------------------------------------------------------------------
# The built-in keys' scope lists (174 names for the Emporix API key) are derived from the
# catalogue and cached in process memory for SCOPE_CACHE_SECONDS: a catalogue change reaches
# other workers within that time (and this process at once, through the signal in apps.py),
# without a cache round trip per request. Custom keys' scopes are one query.

SCOPE_CACHE_SECONDS = 60
_builtin_scopes: dict[str, tuple[float, tuple[str, ...], frozenset[str]]] = {}


def scope_cache_clear(**_: Any) -> None:
    _builtin_scopes.clear()


def _monotonic() -> float:
    return time.monotonic()


class _SpaceJoined(Aggregate):
    """STRING_AGG(name, ' ') on PostgreSQL, GROUP_CONCAT(name, ' ') on SQLite."""

    function = "STRING_AGG"
    template = "%(function)s(%(expressions)s, ' ')"
    output_field = TextField()

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, function="GROUP_CONCAT", **extra)


# A custom key's scope names, joined into the authentication query as one column.
_CUSTOM_SCOPES = Subquery(
    Scope.objects.filter(apikeys=OuterRef("key_id"))
    .order_by()
    .values("apikeys")
    .annotate(names=_SpaceJoined("name"))
    .values("names")
)


def key_scope_names(key_id: int, kind: str, joined: str | None = None) -> tuple[tuple[str, ...], frozenset[str]]:
    """The names of the scopes a key holds and the same as a set. For a custom key `joined`
    is what the authentication query fetched; without it, one query."""
    if kind == KeyKind.CUSTOM:
        if joined is None:
            joined = " ".join(Scope.objects.filter(apikeys__id=key_id).values_list("name", flat=True))
        names = tuple(sorted(joined.split()))
        return names, frozenset(names)
    cached = _builtin_scopes.get(kind)
    if cached is not None and _monotonic() - cached[0] < SCOPE_CACHE_SECONDS:
        return cached[1], cached[2]
    queryset = Scope.objects.offered()
    if kind == KeyKind.STOREFRONT:
        queryset = queryset.filter(storefront=True)
    names = tuple(queryset.values_list("name", flat=True))
    _builtin_scopes[kind] = (_monotonic(), names, frozenset(names))
    return names, frozenset(names)


def grant_scopes(
    requested: str | None, held: tuple[str, ...], held_set: frozenset[str], tenant: str
) -> tuple[str, ...]:
    """The scopes to grant for a `scope` parameter: all the key holds without one, else the
    requested ones, which must all be held. `tenant=<code>` (sent by Emporix clients) is
    accepted for the key's own tenant."""
    if requested is None or not requested.strip():
        return held
    chosen: list[str] = []
    for name in requested.split(" "):
        if not name:
            continue
        if name.startswith("tenant="):
            if name != f"tenant={tenant}":
                raise OAuthError(400, "invalid_scope", "The scope names another tenant.")
            continue
        if name not in held_set:
            raise OAuthError(400, "invalid_scope", "The requested scope is not held by this client.")
        if name not in chosen:
            chosen.append(name)
    return tuple(chosen) if chosen else held


# --- Client authentication ------------------------------------------------------------------


@dataclass
class Client:
    """An authenticated key, as far as the token service needs it."""

    key_id: int
    client_id: str
    kind: str
    tenant_id: int
    tenant_code: str
    secret_id: int
    custom_scopes: str | None = None


_AUTH_FIELDS = (
    "pk",
    "digest",
    "last_used_at",
    "expires_at",
    "key_id",
    "key__kind",
    "key__tenant_id",
    "key__tenant__code",
)


def _auth_queryset(client_id: str, now: datetime):
    return (
        ApiSecret.objects.live(now)
        .filter(key__client_id=client_id)
        .annotate(custom_scopes=_CUSTOM_SCOPES)
        .order_by()
        .values_list(*_AUTH_FIELDS, "custom_scopes")
    )


# Building that queryset costs more CPU than running it, so its SQL is compiled once per
# database (by Django, for the database's dialect) with marker values, then executed with
# the real Client ID and time in their places.
_SENTINEL_ID = "\x01client-id\x01"
_SENTINEL_NOW = datetime(2000, 1, 1, tzinfo=UTC)
_NO_SUCH_ID = "-" * 32  # not well-formed, so no key has it
_compiled_auth: dict[str, tuple[str, list[Any]]] = {}


def _auth_sql(using: str) -> tuple[str, list[Any]]:
    compiled = _compiled_auth.get(using)
    if compiled is None:
        sql, params = _auth_queryset(_SENTINEL_ID, _SENTINEL_NOW).query.get_compiler(using).as_sql()
        adapted_now = connections[using].ops.adapt_datetimefield_value(_SENTINEL_NOW)
        slots = ["id" if p == _SENTINEL_ID else "now" if p == adapted_now else p for p in params]
        if slots.count("id") != 1 or "now" not in slots:
            raise RuntimeError("the authentication query did not compile as expected")
        compiled = _compiled_auth[using] = (sql, slots)
    return compiled


def _aware(value: Any) -> datetime | None:
    """Raw cursors skip Django's converters: SQLite returns text, PostgreSQL aware values."""
    if value is None or isinstance(value, datetime) and value.tzinfo is not None:
        return value
    parsed = parse_datetime(value) if isinstance(value, str) else value
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _live_secret_rows(client_id: str | None, now: datetime) -> list[tuple]:
    """One indexed query: the key's live secrets joined with the key and its tenant (and a
    custom key's scope names). Malformed Client IDs (which could hold NUL bytes PostgreSQL
    refuses) are replaced by one that matches nothing."""
    if not client_id or not crypto.is_well_formed_client_id(client_id):
        # Still query, with an id no key can have, so that a malformed id costs the same.
        client_id = _NO_SUCH_ID
    using = router.db_for_read(ApiSecret)
    sql, slots = _auth_sql(using)
    adapted_now = connections[using].ops.adapt_datetimefield_value(now)
    params = [client_id if p == "id" else adapted_now if p == "now" else p for p in slots]
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [(r[0], r[1], _aware(r[2]), _aware(r[3]), *r[4:]) for r in rows]


def _client_from(row: tuple, client_id: str, now: datetime) -> Client:
    secret = ApiSecret(pk=row[0], last_used_at=row[2], expires_at=row[3], key_id=row[4])
    secret_mark_used(secret, now=now)
    return Client(
        key_id=row[4],
        client_id=client_id,
        kind=row[5],
        tenant_id=row[6],
        tenant_code=row[7],
        secret_id=row[0],
        custom_scopes=row[8] or "",
    )


@sensitive_variables("client_secret", "presented")
def client_authenticate(*, client_id: str | None, client_secret: str | None, address: str, now: datetime) -> Client:
    """Authenticate a client by Client ID and secret: rate limits first, then one query for the
    key's live secrets, then a constant-time digest comparison against all of them (or a dummy
    when there are none), so that an unknown Client ID costs the same as a wrong secret.
    Raises OAuthError (401 invalid_client or 429). Never decrypts."""
    limit_check(client_id, address, now)
    rows = _live_secret_rows(client_id, now)
    presented = crypto.digest(client_secret or "")
    index = crypto.matching_digest(presented, [bytes(row[1]) for row in rows])
    if index is None or not client_secret:
        limit_fail(client_id, address, now)
        raise invalid_client()
    return _client_from(rows[index], client_id, now)


# --- Issuing --------------------------------------------------------------------------------


def _issue(
    *,
    client: Client,
    scopes: tuple[str, ...],
    now: datetime,
    kind: str = TokenKind.SERVICE,
    session_id: Any = None,
) -> tuple[str, str]:
    """Mint a token (and for anonymous sessions a refresh token): one INSERT of digests."""
    token = crypto.generate_token(crypto.TOKEN_PREFIX)
    refresh = crypto.generate_token(crypto.REFRESH_TOKEN_PREFIX) if kind == TokenKind.ANONYMOUS else ""
    lifetime = settings.ANONYMOUS_TOKEN_LIFETIME if kind == TokenKind.ANONYMOUS else settings.ACCESS_TOKEN_LIFETIME
    AccessToken.objects.create(
        digest=crypto.digest(token),
        refresh_digest=crypto.digest(refresh) if refresh else None,
        key_id=client.key_id,
        secret_id=client.secret_id,
        tenant_id=client.tenant_id,
        kind=kind,
        scopes=" ".join(scopes),
        session_id=session_id,
        issued_at=now,
        expires_at=now + timedelta(seconds=lifetime),
        refresh_expires_at=now + timedelta(seconds=settings.REFRESH_TOKEN_LIFETIME) if refresh else None,
    )
    return token, refresh


def _scope_text(scopes: tuple[str, ...], tenant: str) -> str:
    return " ".join((*scopes, f"tenant={tenant}"))


@sensitive_variables("client_secret", "token")
def client_credentials_grant(
    *,
    client_id: str | None,
    client_secret: str | None,
    grant_type: str | None,
    scope: str | None,
    address: str,
    now: datetime | None = None,
) -> Outcome:
    """POST /oauth/token with grant_type=client_credentials, after the view has parsed the
    client's credentials. Returns the Emporix-shaped token response or an RFC 6749 error."""
    now = now or timezone.now()
    try:
        if not grant_type:
            raise invalid_request("grant_type is missing.")
        if grant_type != "client_credentials":
            raise OAuthError(400, "unsupported_grant_type", "Only grant_type=client_credentials is supported.")
        client = client_authenticate(client_id=client_id, client_secret=client_secret, address=address, now=now)
        held, held_set = key_scope_names(client.key_id, client.kind, client.custom_scopes)
        scopes = grant_scopes(scope, held, held_set, client.tenant_code)
        token, _ = _issue(client=client, scopes=scopes, now=now)
    except OAuthError as error:
        return error.outcome
    return Outcome(
        200,
        {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": settings.ACCESS_TOKEN_LIFETIME,
            "refresh_token": "",
            "refresh_token_expires_in": 0,
            "session_idle_time": settings.SESSION_IDLE_TIME,
            "scope": _scope_text(scopes, client.tenant_code),
        },
    )


# --- Introspection and revocation -----------------------------------------------------------


def _token_digest(token: str | None) -> bytes | None:
    if not token or len(token) > 512:
        return None
    return crypto.digest(token)


@sensitive_variables("client_secret", "token")
def token_introspect(
    *, client_id: str | None, client_secret: str | None, token: str | None, address: str, now: datetime | None = None
) -> Outcome:
    """RFC 7662. The caller authenticates with any key of the token's tenant; anything but
    an active token of that tenant is exactly {"active": false}."""
    now = now or timezone.now()
    try:
        client = client_authenticate(client_id=client_id, client_secret=client_secret, address=address, now=now)
    except OAuthError as error:
        return error.outcome
    found = _token_digest(token)
    row = None
    if found is not None:
        row = (
            AccessToken.objects.active(now)
            .filter(digest=found, tenant_id=client.tenant_id)
            .order_by()
            .values_list("scopes", "key__client_id", "expires_at", "issued_at", "kind", "session_id")
            .first()
        )
    if row is None:
        return Outcome(200, {"active": False})
    body = {
        "active": True,
        "scope": _scope_text(tuple(row[0].split()), client.tenant_code),
        "client_id": row[1],
        "token_type": "Bearer",
        "exp": int(row[2].timestamp()),
        "iat": int(row[3].timestamp()),
        "tenant": client.tenant_code,
    }
    if row[4] == TokenKind.ANONYMOUS:
        body["sessionId"] = str(row[5])
    return Outcome(200, body)


@sensitive_variables("client_secret", "token")
def token_revoke(
    *, client_id: str | None, client_secret: str | None, token: str | None, address: str, now: datetime | None = None
) -> Outcome:
    """RFC 7009. A key revokes its own access or refresh tokens; the answer is 200 whether or
    not the token existed or belonged to the caller."""
    now = now or timezone.now()
    try:
        client = client_authenticate(client_id=client_id, client_secret=client_secret, address=address, now=now)
    except OAuthError as error:
        return error.outcome
    found = _token_digest(token)
    if found is not None:
        AccessToken.objects.filter(
            Q(digest=found) | Q(refresh_digest=found), key_id=client.key_id, revoked_at__isnull=True
        ).update(revoked_at=now)
    return Outcome(200, {})


# --- Storefront anonymous login -------------------------------------------------------------


def _storefront_client(tenant: str | None, client_id: str | None, address: str, now: datetime) -> Client:
    """The Storefront API key named by a Client ID and tenant (no secret: anonymous login is
    public, as on Emporix). Other kinds, another tenant or an unknown id: 401."""
    limit_check(client_id, address, now)
    rows = [
        row for row in _live_secret_rows(client_id, now) if row[5] == KeyKind.STOREFRONT and tenant and row[7] == tenant
    ]
    if not rows:
        limit_fail(client_id, address, now)
        raise OAuthError(401, "invalid_client", "Unknown client for this tenant.")
    # The current secret (expires_at null) mints, else the longest-lived old one.
    rows.sort(key=lambda row: (row[3] is not None, -(row[3].timestamp() if row[3] else 0)))
    return _client_from(rows[0], client_id, now)


def _anonymous_body(token: str, refresh: str, session_id: Any, scopes: tuple[str, ...], tenant: str) -> dict:
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": settings.ANONYMOUS_TOKEN_LIFETIME,
        "refresh_token": refresh,
        "refresh_token_expires_in": settings.REFRESH_TOKEN_LIFETIME,
        "sessionId": str(session_id),
        "scope": _scope_text(scopes, tenant),
    }


@sensitive_variables("token", "refresh")
def anonymous_login(*, tenant: str | None, client_id: str | None, address: str, now: datetime | None = None) -> Outcome:
    """GET /customerlogin/auth/anonymous/login: a new session and its anonymous token, with
    the Storefront API key's scopes."""
    now = now or timezone.now()
    try:
        client = _storefront_client(tenant, client_id, address, now)
        scopes, _ = key_scope_names(client.key_id, client.kind)
        session_id = new_session_id()
        token, refresh = _issue(client=client, scopes=scopes, now=now, kind=TokenKind.ANONYMOUS, session_id=session_id)
    except OAuthError as error:
        return error.outcome
    return Outcome(200, _anonymous_body(token, refresh, session_id, scopes, client.tenant_code))


@sensitive_variables("refresh_token", "anonymous_token", "token", "refresh")
def anonymous_refresh(
    *,
    tenant: str | None,
    client_id: str | None,
    refresh_token: str | None,
    anonymous_token: str | None = None,
    address: str,
    now: datetime | None = None,
) -> Outcome:
    """GET /customerlogin/auth/anonymous/refresh: a new token for the same session. The
    refresh token is single use (rotated); the older `anonymous_token` parameter (the access
    token itself) is accepted while its refresh window lasts. The old token is revoked."""
    now = now or timezone.now()
    try:
        client = _storefront_client(tenant, client_id, address, now)
        if refresh_token:
            match = Q(refresh_digest=_token_digest(refresh_token))
        elif anonymous_token:
            match = Q(digest=_token_digest(anonymous_token))
        else:
            raise invalid_request("refresh_token is missing.")
        old = (
            AccessToken.objects.filter(
                match,
                Q(secret__expires_at__isnull=True) | Q(secret__expires_at__gt=now),
                key_id=client.key_id,
                kind=TokenKind.ANONYMOUS,
                revoked_at__isnull=True,
                refresh_expires_at__gt=now,
            )
            .order_by()
            .values_list("pk", "session_id")
            .first()
        )
        # Single use: only the request that flips revoked_at gets the new token.
        if old is None or not AccessToken.objects.filter(pk=old[0], revoked_at__isnull=True).update(revoked_at=now):
            raise OAuthError(400, "invalid_grant", "The refresh token is invalid, expired or already used.")
        scopes, _ = key_scope_names(client.key_id, client.kind)
        token, refresh = _issue(client=client, scopes=scopes, now=now, kind=TokenKind.ANONYMOUS, session_id=old[1])
    except OAuthError as error:
        return error.outcome
    return Outcome(200, _anonymous_body(token, refresh, old[1], scopes, client.tenant_code))


def tokens_purge(*, now: datetime | None = None, batch_size: int = 1000) -> int:
    """Delete expired and revoked tokens in batches; returns how many. An anonymous token is
    kept while its refresh token is still usable."""
    now = now or timezone.now()
    dead = AccessToken.objects.filter(
        Q(revoked_at__isnull=False)
        | (Q(expires_at__lte=now) & (Q(refresh_expires_at__isnull=True) | Q(refresh_expires_at__lte=now)))
    )
    total = 0
    while True:
        batch = list(dead.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not batch:
            return total
        total += AccessToken.objects.filter(pk__in=batch).delete()[0]
