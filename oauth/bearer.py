"""Bearer tokens presented to a resource (RFC 6750): reading one from a request and checking
it. One function, `bearer_verify`, decides whether a token authorizes now and returns what a
resource needs to know about it; the token-info endpoint, the gateway check, introspection of
one's own token and the management API all go through it, so "which tokens work" is the
token service's single rule (`AccessToken.active`: not revoked, not expired, minted by a secret
that is still live).

JWT access tokens (oauth.signing) go through the same function and the same rule: signature,
time and issuer claims in process, then one query that the secret that minted them is still
live and their jti not revoked.
"""

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Exists, QuerySet
from django.http import HttpRequest
from django.views.decorators.debug import sensitive_variables

from apikeys.auth import token_key_find
from kernel.crypto import TOKEN_PREFIX
from kernel.crypto import digest as token_digest
from kernel.db import CompiledSelect

from .models import AccessToken, RevokedJwt, TokenKind
from .signing import MAX_JWT_LENGTH, jwt_verify, looks_like_jwt

# A JWT of the Emporix API key carries its 174 scope names (about 6,000 characters).
MAX_TOKEN_LENGTH = MAX_JWT_LENGTH
# RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


@dataclass(frozen=True, slots=True)
class BearerToken:
    """An access token that authorizes now, as a resource sees it."""

    format: str  # "opaque" or "jwt"
    token_id: str  # the opaque token's row id, or the JWT's jti
    tenant_id: int
    tenant_code: str
    key_id: int
    client_id: str
    key_name: str
    kind: str  # TokenKind: service or anonymous
    scopes: frozenset[str]
    issued_at: datetime
    expires_at: datetime
    session_id: uuid.UUID | None = None
    # The key's own rate limit (apikeys.limits), read with the token so that the gateway
    # check enforces it without a query of its own.
    rate_limit: int | None = None
    rate_limit_period: str = ""
    secret_id: int | None = None  # the secret that minted it (usage counting)
    granted: str = ""  # the scope names, space-separated, in the order they were granted

    def has_scope(self, *any_of: str) -> bool:
        """True if the token holds one of `any_of` (or if none is asked for)."""
        return not any_of or not self.scopes.isdisjoint(any_of)


class MalformedAuthorization(ValueError):
    """The Authorization header is there but is not one Bearer token (RFC 6750: invalid_request)."""


def bearer_token_from(request: HttpRequest) -> str | None:
    """The token of an `Authorization: Bearer <token>` header: None if there is no such header
    (or it names another scheme); MalformedAuthorization if it is a broken Bearer header. Only
    the header is read: tokens in the query string would end up in logs (RFC 6750 2.3)."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    value = value.strip()
    if not value or len(value) > MAX_TOKEN_LENGTH or not _B64TOKEN.fullmatch(value):
        raise MalformedAuthorization("The Authorization header must be 'Bearer <token>'.")
    return value


def _token_queryset(*, digest: bytes, now: datetime) -> QuerySet:
    """The row of the token whose digest is `digest` if it authorizes at `now`, with what a
    BearerToken holds of it, its key and tenant (one indexed query: the digest's hash index)."""
    return (
        AccessToken.objects.active(now)
        .with_granted()
        .filter(digest=digest)
        .order_by()
        .values_list(
            "pk",
            "key__tenant_id",
            "key__tenant__code",
            "key_id",
            "key__client_id",
            "key__name",
            "kind",
            "granted",
            "issued_at",
            "expires_at",
            "session_id",
            "key__rate_limit",
            "key__rate_limit_period",
            "secret_id",
        )[:1]
    )


# Compiled once per database (kernel.db, the fast path): building this queryset (the live-secret
# rule's joins, the scope set) cost token info, introspection and an uncached gateway check more
# CPU than PostgreSQL's time to run it.
_token_query = CompiledSelect(
    "oauth.bearer.token",
    AccessToken,
    _token_queryset,
    {"digest": b"\x01bearer-digest\x01", "now": datetime(2000, 1, 1, tzinfo=UTC)},
)


@sensitive_variables("token")
def bearer_verify(token: str | None, *, now: datetime) -> BearerToken | None:
    """The token if it authorizes now, else None (unknown, expired, revoked, its secret no
    longer live, its key deleted; for a JWT also a bad signature, an unpublished key, a wrong
    issuer or audience). One query."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    if looks_like_jwt(token):
        return _jwt_bearer(token, now)
    if not token.startswith(TOKEN_PREFIX):
        return None
    return opaque_token_find(token_digest(token), now=now)


def opaque_token_find(digest: bytes, *, now: datetime) -> BearerToken | None:
    """The opaque token whose digest is `digest` if it authorizes at `now` (one compiled
    query); introspection reads tokens with it too."""
    rows = _token_query.rows({"digest": digest, "now": now})
    if not rows:
        return None
    row = rows[0]
    pk, tenant_id, tenant_code, key_id, client_id, key_name, kind, scopes, issued_at, expires_at, session_id = row[:11]
    rate_limit, rate_limit_period, secret_id = row[11:]
    return BearerToken(
        format="opaque",
        token_id=str(pk),
        tenant_id=tenant_id,
        tenant_code=tenant_code,
        key_id=key_id,
        client_id=client_id,
        key_name=key_name,
        kind=kind,
        scopes=frozenset(scopes.split()),
        granted=scopes,
        issued_at=issued_at,
        expires_at=expires_at,
        session_id=session_id,
        rate_limit=rate_limit,
        rate_limit_period=rate_limit_period,
        secret_id=secret_id,
    )


def _moment(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


@sensitive_variables("token")
def _jwt_bearer(token: str, now: datetime) -> BearerToken | None:
    claims = jwt_verify(token, now=now)
    if claims is None:
        return None
    try:
        secret_public_id = uuid.UUID(claims["cred_id"])
    except ValueError:
        return None
    # The one query: the minting secret is live, still of this Client ID and tenant, the token
    # not from before its key was last enabled again, and the jti not revoked.
    issued_at = _moment(claims["iat"])
    # iat has whole seconds: a JWT issued in the second its key was enabled again counts as after.
    issued_within = issued_at + timedelta(seconds=1) - timedelta(microseconds=1)
    found = token_key_find(
        secret_public_id=secret_public_id,
        client_id=claims["client_id"],
        tenant_code=claims["tenant"],
        issued=issued_within,
        now=now,
        unless=Exists(RevokedJwt.objects.filter(jti=claims["jti"])),
    )
    if found is None:
        return None
    return BearerToken(
        format="jwt",
        token_id=claims["jti"],
        tenant_id=found.tenant_id,
        tenant_code=claims["tenant"],
        key_id=found.key_id,
        client_id=claims["client_id"],
        key_name=found.key_name,
        kind=TokenKind.SERVICE,
        scopes=frozenset(claims["scope"].split()),
        granted=claims["scope"],
        issued_at=issued_at,
        expires_at=_moment(claims["exp"]),
        rate_limit=found.rate_limit,
        rate_limit_period=found.rate_limit_period,
        secret_id=found.secret_id,
    )
