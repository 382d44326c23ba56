"""The token service: client authentication, token issuing, introspection, revocation and
the Storefront anonymous login. Views parse HTTP and call these functions; Try it calls the
same functions, so both go through one code path.

Which keys and secrets are valid, and which scopes a key holds, is the keys app's rule
(`apikeys.auth`); this module adds the OAuth protocol around it: rate limits, grants, tokens.
The public functions answer with an Outcome; inside them errors are raised as OAuthError,
which `answers` turns into RFC 6749 section 5.2 JSON. They take `now` (default: the current
time) so that tests can move the clock.
"""

import functools
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Min, Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from activity.audit import Audit
from activity.models import Action
from activity.services import activity_record
from apikeys import limits as key_limits
from apikeys.auth import (
    KeptKey,
    Refusal,
    VerifiedKey,
    current_secret_plaintext,
    key_authenticate,
    key_forget,
    key_kept,
    key_kept_used,
    key_unchanged_guard,
    storefront_key_authenticate,
)
from apikeys.models import ApiKey, KeyKind, TokenFormat, live_secret_q, tokens_valid_q
from apikeys.services import SecretUnreadable
from kernel import outages, ratelimit, usage
from kernel.crypto import REFRESH_TOKEN_PREFIX, TOKEN_PREFIX, DecryptionError, generate_token
from kernel.crypto import digest as token_digest
from kernel.db import CompiledInsert
from kernel.logs import tenant_note

from .bearer import bearer_verify, opaque_token_find
from .models import AccessToken, RevokedJwt, TokenKind
from .scopesets import scope_set_id, scope_set_store
from .signing import jwt_issue, jwt_lifetime, jwt_verify, looks_like_jwt

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


# --- Limits -----------------------------------------------------------------------------------
# Fixed windows (kernel.ratelimit). Secrets are 256-bit random values: guessing one is hopeless,
# while a limit that refused the right secret would let anyone block a key with its public
# Client ID. So the secret is always checked and a correct one always passes; failures are
# counted per (Client ID, client address) and per client address, and a failure past either
# limit is answered 429 `slow_down` (RFC 8628's registered code) instead of 401. The anonymous
# login has counters of its own, so failed client credentials never touch it, and limits
# its successes per address (each one writes a token row).


def too_many(wait: int, description: str) -> OAuthError:
    return OAuthError(429, "slow_down", description, {"Retry-After": str(wait)})


def limit_fail(client_id: str | None, address: str, now: datetime, *, counters: str = "oauth") -> None:
    """Count a failed authentication of `client_id` from `address` on the `counters` family
    ("oauth" or "anon"); raise 429 if it went past a limit (else the caller raises its 401)."""
    wait = ratelimit.hit(
        [
            ratelimit.Counter(
                f"{counters}:fail:ca", (client_id or "", address), settings.AUTH_FAILURE_LIMIT_PER_CLIENT
            ),
            ratelimit.Counter(f"{counters}:fail:a", (address,), settings.AUTH_FAILURE_LIMIT_PER_ADDRESS),
        ],
        window=settings.AUTH_FAILURE_WINDOW,
        now=now.timestamp(),
    )
    if wait is not None:
        raise too_many(wait, "Too many failed authentication attempts; wait Retry-After seconds.")


def anonymous_limit(address: str, now: datetime) -> None:
    """Count an anonymous login or refresh from `address`; 429 past the limit."""
    wait = ratelimit.hit(
        [ratelimit.Counter("anon:ok:a", (address,), settings.ANONYMOUS_LOGIN_LIMIT_PER_ADDRESS)],
        window=settings.ANONYMOUS_LOGIN_WINDOW,
        now=now.timestamp(),
    )
    if wait is not None:
        raise too_many(wait, "Too many anonymous sessions from this address; wait Retry-After seconds.")


def key_rate_limit(client: VerifiedKey, now: datetime, *, operation: str) -> None:
    """The key's own rate limit (apikeys.limits), after it authenticated: a request past it is
    answered 429 `slow_down` with Retry-After, and counted as KEY_RATE_LIMITED for the key's
    page. A key without a limit costs nothing here."""
    wait = key_limits.key_rate_hit(
        family=key_limits.TOKEN,
        key_id=client.key_id,
        limit=client.rate_limit,
        period=client.rate_limit_period,
        now=now.timestamp(),
    )
    if wait is not None:
        usage.count(
            tenant_id=client.tenant_id,
            key_id=client.key_id,
            secret_id=client.secret_id,
            operation=operation,
            outcome=usage.KEY_RATE_LIMITED,
            now=now.timestamp(),
        )
        raise too_many(wait, "This key's rate limit is reached; wait Retry-After seconds.")


# --- Scopes -----------------------------------------------------------------------------------


def grant_scopes(requested: str | None, client: VerifiedKey) -> tuple[str, ...]:
    """The scopes to grant for a `scope` parameter: all the key holds without one, else the
    requested ones, which must all be held. `tenant=<code>` (sent by Emporix clients) is
    accepted for the key's own tenant."""
    if requested is None or not requested.strip():
        return client.scopes
    chosen: list[str] = []
    for name in requested.split(" "):
        if not name:
            continue
        if name.startswith("tenant="):
            if name != f"tenant={client.tenant_code}":
                raise OAuthError(400, "invalid_scope", "The scope names another tenant.")
            continue
        if name not in client.scope_set:
            raise OAuthError(400, "invalid_scope", "The requested scope is not held by this client.")
        if name not in chosen:
            chosen.append(name)
    return tuple(chosen) if chosen else client.scopes


# --- Client authentication ------------------------------------------------------------------


def _counted(
    outcome: str,
    operation: str | None,
    key: VerifiedKey | None = None,
    *,
    tenant_id: int | None = None,
    key_id: int | None = None,
    secret_id: int | None = None,
) -> None:
    """Count a token-service decision (kernel.usage) for `key` (or the ids given); nothing
    when `operation` is None (introspection and revocation are not counted)."""
    if operation is None:
        return
    if key is not None:
        tenant_id, key_id, secret_id = key.tenant_id, key.key_id, key.secret_id
    usage.count(tenant_id=tenant_id, key_id=key_id, secret_id=secret_id, operation=operation, outcome=outcome)


def _used(client: VerifiedKey, operation: str, address: str) -> None:
    """Count a token issued to `client` and remember where from (its network only)."""
    _counted(usage.ISSUED, operation, client)
    usage.seen(key_id=client.key_id, address=address)


@sensitive_variables("client_secret")
def client_authenticate(
    *, client_id: str | None, client_secret: str | None, address: str, now: datetime, operation: str | None = None
) -> VerifiedKey:
    """Authenticate a client by Client ID and secret: the keys app's verification (one query on
    a success, two on a failure; constant-time comparison, never a decryption), then, on
    failure, the limits. Raises
    OAuthError (401 invalid_client, or 429 past a failure limit). A failure is counted under
    `operation` (kernel.usage) with its reason and the key it was for, if one can be named."""
    client = key_authenticate(client_id=client_id, client_secret=client_secret, now=now, address=address)
    if not isinstance(client, VerifiedKey):
        _refused(client, operation, lambda: limit_fail(client_id, address, now))
        raise invalid_client()
    tenant_note(client.tenant_code)
    return client


def _refused(refusal: Refusal, operation: str | None, limit: Callable[[], None]) -> None:
    """Count a refused client under `operation`: as rate limited if `limit` raises (past a
    failure limit), else with the refusal's reason."""
    try:
        limit()
    except OAuthError:
        _counted(usage.RATE_LIMITED, operation, tenant_id=refusal.tenant_id, key_id=refusal.key_id)
        raise
    _counted(
        refusal.outcome, operation, tenant_id=refusal.tenant_id, key_id=refusal.key_id, secret_id=refusal.secret_id
    )


def answers(service: Callable[..., Outcome]) -> Callable[..., Outcome]:
    """A service that answers with an Outcome: an OAuthError raised inside becomes its
    RFC 6749 error outcome. `now` defaults to the current time."""

    @functools.wraps(service)
    @sensitive_variables()  # all of them: its kwargs hold the client's secret or tokens
    def wrapper(*args: Any, now: datetime | None = None, **kwargs: Any) -> Outcome:
        try:
            return service(*args, now=now or timezone.now(), **kwargs)
        except OAuthError as error:
            return error.outcome

    return wrapper


# --- Issuing --------------------------------------------------------------------------------


def access_token_lifetime(client: VerifiedKey) -> int:
    """Seconds a client-credentials token of `client` lives: the key's own lifetime if it has
    one (never past ACCESS_TOKEN_LIFETIME_MAX), else the deployment's."""
    if client.token_lifetime:
        return min(client.token_lifetime, settings.ACCESS_TOKEN_LIFETIME_MAX)
    return settings.ACCESS_TOKEN_LIFETIME


def _issue(
    *,
    client: VerifiedKey,
    scopes: str,
    now: datetime,
    kind: str = TokenKind.SERVICE,
    session_id: uuid.UUID | None = None,
    kept: KeptKey | None = None,
) -> tuple[str, str] | None:
    """Mint a token (and for anonymous sessions a refresh token): one INSERT of digests.
    `scopes` is the granted scope names, space-separated (joined once per request: the Emporix
    API key's 174 names are 4 KB). For a `kept` client (apikeys.auth.key_kept) the INSERT
    happens only if the key is unchanged since it was kept; None if it was not."""
    token = generate_token(TOKEN_PREFIX)
    refresh = generate_token(REFRESH_TOKEN_PREFIX) if kind == TokenKind.ANONYMOUS else ""
    lifetime = settings.ANONYMOUS_TOKEN_LIFETIME if kind == TokenKind.ANONYMOUS else access_token_lifetime(client)
    inserted = _insert_token(
        scopes,
        key_unchanged_guard(kept, now) if kept is not None else None,
        digest=token_digest(token),
        refresh_digest=token_digest(refresh) if refresh else None,
        key_id=client.key_id,
        secret_id=client.secret_id,
        kind=kind,
        scope_set_id=scope_set_id(scopes),
        scopes=None,
        session_id=session_id,
        issued_at=now,
        expires_at=now + timedelta(seconds=lifetime),
        refresh_expires_at=now + timedelta(seconds=settings.REFRESH_TOKEN_LIFETIME) if refresh else None,
        revoked_at=None,
    )
    return (token, refresh) if inserted else None


# The token INSERT, compiled once per database (kernel.db, the fast path): the ORM's create()
# (model instance, save machinery, signals, the compiler) cost more CPU than the statement
# itself, on every token request. It inserts only if the token's scope set exists
# (oauth.scopesets): a new set is stored and the INSERT sent again.
_token_insert = CompiledInsert("oauth.services.insert_token", AccessToken, only_if="scope_set_id")


def _insert_token(names: str, guard: tuple[str, list[Any]] | None, **values: Any) -> bool:
    """False only if `guard` found nothing (nothing was inserted)."""
    if not _token_insert.execute(values, guard):
        scope_set_store(values["scope_set_id"], names)
        if not _token_insert.execute(values, guard):
            if guard is not None:
                return False
            raise RuntimeError("the token's scope set was stored but is not there")
    return True


def token_format_of(client: VerifiedKey) -> str:
    """The format of `client`'s client-credentials tokens: its own choice, else the
    deployment's ACCESS_TOKEN_FORMAT."""
    return client.token_format or settings.ACCESS_TOKEN_FORMAT


def _scope_text(scopes: str, tenant: str) -> str:
    """The `scope` of a response: the granted names, then `tenant=<code>`."""
    return f"{scopes} tenant={tenant}" if scopes else f"tenant={tenant}"


@answers
@sensitive_variables("client_secret", "token")
def client_credentials_grant(
    *,
    client_id: str | None,
    client_secret: str | None,
    grant_type: str | None,
    scope: str | None,
    address: str,
    now: datetime,
) -> Outcome:
    """POST /oauth/token with grant_type=client_credentials, after the view has parsed the
    client's credentials. Returns the Emporix-shaped token response or an RFC 6749 error.
    A key whose format is JWT gets an `at+jwt` signed for the configured issuer (PORTAL_URL),
    and nothing is written for it but the secret's last use."""
    if not grant_type or grant_type != "client_credentials":
        _counted(usage.BAD_REQUEST, usage.OPERATION_TOKEN)
        if not grant_type:
            raise invalid_request("grant_type is missing.")
        raise OAuthError(400, "unsupported_grant_type", "Only grant_type=client_credentials is supported.")
    # A key this process keeps (apikeys.auth.key_kept) needs no lookup: the token's INSERT
    # checks that it is unchanged. Anything a kept key would refuse, or an INSERT that finds it
    # changed, is decided again by the full check; a rate limit it reaches is answered, and the
    # key forgotten (its limit may have changed: the next request reads it).
    kept = key_kept(client_id=client_id, client_secret=client_secret, now=now, address=address)
    limited = kept is not None and token_format_of(kept.key) != TokenFormat.JWT
    if limited:
        tenant_note(kept.key.tenant_code)
        try:
            key_rate_limit(kept.key, now, operation=usage.OPERATION_TOKEN)
        except OAuthError:
            key_forget(client_id)
            raise
        outcome = _client_credentials(kept.key, scope, address, now, kept=kept)
        if outcome is not None:
            key_kept_used(kept, now)
            return outcome
        key_forget(client_id)
    client = client_authenticate(
        client_id=client_id, client_secret=client_secret, address=address, now=now, operation=usage.OPERATION_TOKEN
    )
    if token_format_of(client) == TokenFormat.JWT:
        key_forget(client_id)  # its requests always take the full check: nothing to compare again
    # A kept key's request was counted against its limit already, unless the limit changed.
    if not limited or (client.rate_limit, client.rate_limit_period) != (
        kept.key.rate_limit,
        kept.key.rate_limit_period,
    ):
        key_rate_limit(client, now, operation=usage.OPERATION_TOKEN)
    outcome = _client_credentials(client, scope, address, now)
    if outcome is None:  # only a kept key's INSERT can find its key changed
        raise RuntimeError("a token INSERT without a guard inserted nothing")
    return outcome


@sensitive_variables("token")
def _client_credentials(
    client: VerifiedKey, scope: str | None, address: str, now: datetime, *, kept: KeptKey | None = None
) -> Outcome | None:
    """The token response for an authenticated `client` within its rate limit; None if `kept`
    and the key changed since it was kept (nothing issued, nothing counted)."""
    try:
        scopes = " ".join(grant_scopes(scope, client))
    except OAuthError:
        if kept is not None:
            return None  # perhaps a scope the key has been given since: the full check decides
        _counted(usage.BAD_REQUEST, usage.OPERATION_TOKEN, client)
        raise
    # RFC 6749 5.1: `scope` may differ from the request, and standard clients (oauthlib) then
    # raise "Scope has changed". A client that asked for names without `tenant=` gets exactly
    # the names back; one that sent `tenant=<code>`, as Emporix clients do, or no scope at all
    # gets Emporix's `<names> tenant=<code>` (docs/token-service.md, Standard clients).
    echo_tenant = not scope or not scope.strip() or any(name.startswith("tenant=") for name in scope.split(" "))
    if token_format_of(client) == TokenFormat.JWT:
        try:
            token = jwt_issue(client=client, scopes=scopes, now=now)
        except DecryptionError as exc:
            # The signing key is encrypted under a key PORTAL_ENCRYPTION_KEYS no longer has: an
            # operator's mistake (docs/configuration.md, Encryption keys and rotation), reported once a while,
            # answered like an outage rather than a 500.
            outages.report("JWT signing key", exc)
            raise OAuthError(
                503,
                "temporarily_unavailable",
                "The service cannot issue this kind of token right now. Try again later.",
                {"Retry-After": str(settings.OUTAGE_RETRY_AFTER)},
            ) from None
        expires_in = jwt_lifetime(client)
    else:
        issued = _issue(client=client, scopes=scopes, now=now, kept=kept)
        if issued is None:
            return None
        token = issued[0]
        expires_in = access_token_lifetime(client)
    _used(client, usage.OPERATION_TOKEN, address)
    return Outcome(
        200,
        {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": expires_in,
            # No refresh_token member: Emporix's example sends "", which RFC 6749 does not allow
            # and openid-client refuses; its schema does not require the member. The expiry 0
            # stays (Emporix's shape; clients ignore members they do not know).
            "refresh_token_expires_in": 0,
            "session_idle_time": settings.SESSION_IDLE_TIME,
            "scope": _scope_text(scopes, client.tenant_code) if echo_tenant else scopes,
        },
    )


# --- Introspection and revocation -----------------------------------------------------------


def _jwt_introspect(token: str, client: VerifiedKey, now: datetime) -> Outcome:
    """Introspection of a JWT: the same rule as for resources (bearer_verify) and the same
    answer as for an opaque token."""
    found = bearer_verify(token, now=now)
    if found is None or found.tenant_id != client.tenant_id:
        return Outcome(200, {"active": False})
    body = {
        "active": True,
        "scope": _scope_text(" ".join(sorted(found.scopes)), client.tenant_code),
        "client_id": found.client_id,
        "token_type": "Bearer",
        "exp": int(found.expires_at.timestamp()),
        "iat": int(found.issued_at.timestamp()),
        "tenant": client.tenant_code,
    }
    return Outcome(200, body)


def _presented_digest(token: str | None) -> bytes | None:
    if not token or len(token) > 512:
        return None
    return token_digest(token)


@answers
@sensitive_variables("client_secret", "token")
def token_introspect(
    *, client_id: str | None, client_secret: str | None, token: str | None, address: str, now: datetime
) -> Outcome:
    """RFC 7662. The caller authenticates with any key of the token's tenant; anything but
    an active token of that tenant is exactly {"active": false}; no `token` parameter is
    invalid_request (RFC 7662 2.1: it is REQUIRED)."""
    client = client_authenticate(client_id=client_id, client_secret=client_secret, address=address, now=now)
    if not token:
        raise invalid_request("token is missing.")
    if token and looks_like_jwt(token):
        return _jwt_introspect(token, client, now)
    found = _presented_digest(token)
    # The bearer check's compiled query (oauth.bearer); a token of another tenant is inactive.
    bearer = opaque_token_find(found, now=now) if found is not None else None
    if bearer is None or bearer.tenant_id != client.tenant_id:
        return Outcome(200, {"active": False})
    body = {
        "active": True,
        # The names in the order granted, as the token response gave them.
        "scope": _scope_text(bearer.granted, client.tenant_code),
        "client_id": bearer.client_id,
        "token_type": "Bearer",
        "exp": int(bearer.expires_at.timestamp()),
        "iat": int(bearer.issued_at.timestamp()),
        "tenant": client.tenant_code,
    }
    if bearer.kind == TokenKind.ANONYMOUS:
        body["sessionId"] = str(bearer.session_id)
    return Outcome(200, body)


@answers
@sensitive_variables("client_secret", "token")
def token_revoke(
    *, client_id: str | None, client_secret: str | None, token: str | None, address: str, now: datetime
) -> Outcome:
    """RFC 7009. A key revokes its own access or refresh tokens; the answer is 200 whether or
    not the token existed or belonged to the caller; no `token` parameter is invalid_request
    (RFC 7009 2.1: it is REQUIRED)."""
    client = client_authenticate(client_id=client_id, client_secret=client_secret, address=address, now=now)
    if not token:
        raise invalid_request("token is missing.")
    if token and looks_like_jwt(token):
        # A JWT is not stored: its jti is, until the token would have expired anyway.
        claims = jwt_verify(token, now=now)
        if claims is not None and claims["client_id"] == client.client_id:
            expires_at = datetime.fromtimestamp(claims["exp"], tz=now.tzinfo)
            RevokedJwt.objects.bulk_create(
                [RevokedJwt(jti=claims["jti"], expires_at=expires_at)], ignore_conflicts=True
            )
        return Outcome(200, {})
    found = _presented_digest(token)
    if found is not None:
        AccessToken.objects.filter(
            Q(digest=found) | Q(refresh_digest=found), key_id=client.key_id, revoked_at__isnull=True
        ).update(revoked_at=now)
    return Outcome(200, {})


# --- Storefront anonymous login -------------------------------------------------------------


def _storefront_client(
    tenant: str | None, client_id: str | None, address: str, now: datetime, *, operation: str
) -> VerifiedKey:
    """The Storefront API key named by a Client ID and tenant (no secret: anonymous login is
    public, as on Emporix). Other kinds, another tenant or an unknown id: 401 (429 past the
    failure limits). Each success counts against the key's own rate limit, then the address's
    anonymous-session limit. A refusal is counted under `operation` (kernel.usage)."""
    client = storefront_key_authenticate(client_id=client_id, tenant_code=tenant, now=now, address=address)
    if not isinstance(client, VerifiedKey):
        _refused(client, operation, lambda: limit_fail(client_id, address, now, counters="anon"))
        raise OAuthError(401, "invalid_client", "Unknown client for this tenant.")
    tenant_note(client.tenant_code)
    key_rate_limit(client, now, operation=operation)
    try:
        anonymous_limit(address, now)
    except OAuthError:
        _counted(usage.RATE_LIMITED, operation, client)
        raise
    return client


def _anonymous_session(client: VerifiedKey, session_id: uuid.UUID, now: datetime) -> Outcome:
    """Mint an anonymous token and refresh token for a session of the Storefront key."""
    scopes = " ".join(client.scopes)
    token, refresh = _issue(client=client, scopes=scopes, now=now, kind=TokenKind.ANONYMOUS, session_id=session_id)
    body = {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": settings.ANONYMOUS_TOKEN_LIFETIME,
        "refresh_token": refresh,
        "refresh_token_expires_in": settings.REFRESH_TOKEN_LIFETIME,
        "sessionId": str(session_id),
        "scope": _scope_text(scopes, client.tenant_code),
    }
    return Outcome(200, body)


@answers
@sensitive_variables("token", "refresh")
def anonymous_login(*, tenant: str | None, client_id: str | None, address: str, now: datetime) -> Outcome:
    """GET /customerlogin/auth/anonymous/login: a new session and its anonymous token, with
    the Storefront API key's scopes."""
    client = _storefront_client(tenant, client_id, address, now, operation=usage.OPERATION_ANONYMOUS_LOGIN)
    outcome = _anonymous_session(client, uuid.uuid4(), now)
    _used(client, usage.OPERATION_ANONYMOUS_LOGIN, address)
    return outcome


@answers
@sensitive_variables("refresh_token", "anonymous_token")
def anonymous_refresh(
    *,
    tenant: str | None,
    client_id: str | None,
    refresh_token: str | None,
    anonymous_token: str | None = None,
    address: str,
    now: datetime,
) -> Outcome:
    """GET /customerlogin/auth/anonymous/refresh: a new token for the same session. The
    refresh token is single use (rotated); the older `anonymous_token` parameter (the access
    token itself) is accepted while its refresh window lasts. The old token is revoked."""
    client = _storefront_client(tenant, client_id, address, now, operation=usage.OPERATION_ANONYMOUS_REFRESH)
    if refresh_token:
        match = Q(refresh_digest=_presented_digest(refresh_token))
    elif anonymous_token:
        match = Q(digest=_presented_digest(anonymous_token))
    else:
        _counted(usage.BAD_REQUEST, usage.OPERATION_ANONYMOUS_REFRESH, client)
        raise invalid_request("refresh_token is missing.")
    old = (
        AccessToken.objects.filter(
            match,
            live_secret_q(now, via="secret__"),
            tokens_valid_q(),
            key_id=client.key_id,
            kind=TokenKind.ANONYMOUS,
            revoked_at__isnull=True,
            refresh_expires_at__gt=now,
        )
        .order_by()
        .values_list("pk", "session_id", named=True)
        .first()
    )
    # Single use: only the request that flips revoked_at gets the new token.
    if old is None or not AccessToken.objects.filter(pk=old.pk, revoked_at__isnull=True).update(revoked_at=now):
        _counted(usage.INVALID_TOKEN, usage.OPERATION_ANONYMOUS_REFRESH, client)
        raise OAuthError(400, "invalid_grant", "The refresh token is invalid, expired or already used.")
    outcome = _anonymous_session(client, old.session_id, now)
    _used(client, usage.OPERATION_ANONYMOUS_REFRESH, address)
    return outcome


# --- Try it -----------------------------------------------------------------------------------


@sensitive_variables("plaintext")
def key_try(*, key: ApiKey, audit: Audit) -> Outcome:
    """The Get started panel's Try it: the token request a client of this key would send
    (the anonymous login for the Storefront API key), through the same functions as the
    endpoints, recorded in the activity log with its status (never the token)."""
    if key.kind == KeyKind.STOREFRONT:
        grant = "anonymous_login"
        outcome = anonymous_login(tenant=key.tenant.code, client_id=key.client_id, address=audit.address)
    else:
        grant = "client_credentials"
        try:
            plaintext = current_secret_plaintext(key)
        except SecretUnreadable:
            outcome = Outcome(
                503, {"error": "secret_unreadable", "error_description": "The secret cannot be decrypted."}
            )
        else:
            outcome = client_credentials_grant(
                client_id=key.client_id,
                client_secret=plaintext,
                grant_type=grant,
                scope=None,
                address=audit.address,
            )
    activity_record(
        tenant=key.tenant,
        action=Action.KEY_TRIED,
        audit=audit,
        key=key,
        details={"grant": grant, "status": outcome.status},
    )
    return outcome


def tokens_purge(
    *,
    now: datetime | None = None,
    batch_size: int = 1000,
    duty: float = 1.0,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Delete expired and revoked tokens, and the revoked JWTs' jtis once those tokens have
    expired; returns how many. An anonymous token is kept while its refresh token is still
    usable.

    The table is walked once, in windows of `batch_size` ids (a range of the primary key, each
    one DELETE in its own transaction), from its first row to the last row that existed when the
    purge began: the work is linear in the table, whatever it holds. Looking for dead rows
    anew for every batch instead read again, each time, the pages that earlier batches had
    emptied (dead tuples stay until VACUUM), which grew quadratic with millions of expired rows.
    A window locks only its own dead rows, which no token request touches, and its COMMIT does
    not wait for the disk (_commit_without_waiting). `duty` (0 to 1) is
    the share of time it works: after each window it rests for as long as that window took,
    times (1 - duty) / duty, so that on a busy database, where windows take longer, it backs off
    by itself and leaves the token path its CPU (bench/purge.py measures it; docs/scaling.md)."""
    if not 0 < duty <= 1:
        raise ValueError("duty must be more than 0 and at most 1")
    now = now or timezone.now()
    total = RevokedJwt.objects.filter(expires_at__lte=now).delete()[0]
    dead = Q(revoked_at__isnull=False) | (
        Q(expires_at__lte=now) & (Q(refresh_expires_at__isnull=True) | Q(refresh_expires_at__lte=now))
    )
    bounds = AccessToken.objects.aggregate(first=Min("pk"), last=Max("pk"))
    if bounds["first"] is None:
        return total
    low = bounds["first"] - 1
    while low < bounds["last"]:
        high = min(low + batch_size, bounds["last"])
        started = time.monotonic()
        with transaction.atomic(savepoint=False):
            _commit_without_waiting()
            total += AccessToken.objects.filter(dead, pk__gt=low, pk__lte=high).delete()[0]
        low = high
        if progress is not None:
            progress(total)
        if duty < 1:
            time.sleep((time.monotonic() - started) * (1 - duty) / duty)
    return total


def _commit_without_waiting() -> None:
    """The current transaction's COMMIT returns without waiting for its WAL to reach the disk
    (synchronous_commit off, for this transaction only). For a purge window that is safe: a
    crash can lose only the deletion of rows that were dead already, and the next purge deletes
    them. It spares the disk one flush per window, which the token path's own commits would
    otherwise queue behind (bench/purge.py). PostgreSQL only: SQLite has no such setting."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")


def tokens_intern_scopes(
    *, batch_size: int = 1000, pause: float = 0.0, progress: Callable[[int], None] | None = None
) -> int:
    """Move token rows from before scope sets (their own copy of the names) to a scope set, a
    batch of rows per transaction, in id order; returns how many rows moved. Safe to stop and
    run again at any point (it looks for rows still holding names), and while tokens are
    issued, checked and revoked: a batch locks only its own rows, for one UPDATE per distinct
    set in it. `pause` seconds between batches leave the database room on a busy system."""
    moved, after = 0, 0
    while True:
        rows = list(
            AccessToken.objects.filter(pk__gt=after, scope_set__isnull=True, scopes__isnull=False)
            .order_by("pk")
            .values_list("pk", "scopes")[:batch_size]
        )
        if not rows:
            return moved
        by_set: dict[str, list[int]] = {}
        for pk, names in rows:
            by_set.setdefault(names, []).append(pk)
        with transaction.atomic():
            for names, pks in by_set.items():
                set_id = scope_set_id(names)
                scope_set_store(set_id, names)
                moved += AccessToken.objects.filter(pk__in=pks, scope_set__isnull=True).update(
                    scope_set_id=set_id, scopes=None
                )
        after = rows[-1][0]
        if progress is not None:
            progress(moved)
        if pause:
            time.sleep(pause)
