"""The gateway check's decision: may a request, as a proxy saw it (method, raw URI, bearer
token), reach the API behind the proxy?

- a path refused by `paths.lookup` (dot segments, encoded separators, a route in disguise): 404;
- a route of the table that needs no token: allowed, without reading the token;
- no token: 401; a token that does not authorize now (`oauth.bearer.bearer_verify`): 401;
- a route whose `{tenant}` is not the token's tenant, or whose scopes the token holds none of:
  403 (insufficient_scope);
- a call that would be allowed, past its key's own rate limit (apikeys.limits): 429 with
  Retry-After;
- a method and path the table does not know: 404, unless the path lies under one of the
  operator's pass-through prefixes (GATEWAY_PASSTHROUGH_PREFIXES) and is not a route's own path
  (the table lists every method of the paths it knows). Under a pass-through prefix it needs a
  valid token of the tenant that its tenant segment names (where the table has `{tenant}`:
  `/tax/{tenant}/...`), with any scope: the table knows no scopes for it.

Verified tokens are kept per process for GATEWAY_CACHE_SECONDS (never past their expiry),
keyed by the token's digest, so that a busy client costs the database one query per token and
interval; refusals are never kept. A token revoked, or whose key is renewed "now", is therefore
refused by every process at most GATEWAY_CACHE_SECONDS later.
"""

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from apikeys import limits as key_limits
from kernel import usage
from kernel.crypto import digest as token_digest
from kernel.net import client_address
from oauth.bearer import BearerToken, bearer_verify
from scopes.routes import Route

from .paths import lookup

# Entries a process keeps at most; past it, expired ones go first, then the oldest.
MAX_ENTRIES = 10_000
# Where the fast lane (gateway/fastlane.py) leaves a decision it reached but does not answer
# itself (the key's rate limit: its call is counted once), for the view to answer. A WSGI
# server puts a client's headers only under HTTP_ names, so no client can set it.
DECIDED_ENVIRON_KEY = "portal.gateway.decision"


@dataclass(frozen=True, slots=True)
class Grant:
    """A verified token and the headers the upstream gets for it, computed once per entry."""

    token: BearerToken
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class Decision:
    status: int  # 200, 400, 401, 403, 404 or 429
    error: str = ""  # RFC 6750 error code (invalid_request, invalid_token, insufficient_scope) or unknown_route
    description: str = ""
    scope: str = ""  # on insufficient_scope: the scopes that would open the route, space-separated
    grant: Grant | None = None
    route: Route | None = None
    retry_after: int = 0  # on 429: seconds until the key's rate-limit window ends
    outcome: str = usage.ALLOWED  # what usage counting calls it (kernel.usage)

    @property
    def operation(self) -> str:
        """The operation counted for it: the route's; a path under a pass-through prefix that got
        past the route table (allowed, or refused for its token); else unknown."""
        if self.route is not None:
            return self.route.operation_id
        if self.outcome in (usage.ALLOWED, usage.INVALID_TOKEN, usage.OTHER_TENANT, usage.KEY_RATE_LIMITED):
            return usage.OPERATION_PASSTHROUGH
        return usage.OPERATION_UNKNOWN


class TokenCache:
    """Verified tokens by digest, each until its own deadline (time.monotonic()). Reads take no
    lock (a dict lookup is atomic); writes do, so that eviction sees a stable dict."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: dict[bytes, tuple[float, Grant]] = {}
        self._lock = threading.Lock()

    def get(self, key: bytes) -> Grant | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] <= time.monotonic():
            return None
        return entry[1]

    def put(self, key: bytes, grant: Grant, seconds: float) -> None:
        with self._lock:
            now = time.monotonic()
            if key not in self._entries and len(self._entries) >= self.max_entries:
                for stale in [k for k, (deadline, _) in self._entries.items() if deadline <= now]:
                    del self._entries[stale]
                while len(self._entries) >= self.max_entries:
                    del self._entries[next(iter(self._entries))]
            self._entries[key] = (now + seconds, grant)

    def forget(self, key: bytes) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


tokens = TokenCache()


def _grant(token: BearerToken) -> Grant:
    return Grant(
        token,
        {
            "X-Portal-Tenant": token.tenant_code,
            "X-Portal-Client-Id": token.client_id,
            "X-Portal-Scopes": " ".join(sorted(token.scopes)),
            "X-Portal-Token-Kind": token.kind,
        },
    )


@sensitive_variables("token")
def grant_for(token: str) -> Grant | None:
    """The token's grant if it authorizes now: from this process's cache, else from
    `bearer_verify` (one query), kept for GATEWAY_CACHE_SECONDS but never past the token's
    expiry. A refused token is not kept (and drops an entry it may have had)."""
    key = token_digest(token)
    grant = tokens.get(key)
    if grant is not None:
        return grant
    now = timezone.now()
    verified = bearer_verify(token, now=now)
    if verified is None:
        tokens.forget(key)
        return None
    grant = _grant(verified)
    seconds = min(settings.GATEWAY_CACHE_SECONDS, (verified.expires_at - now).total_seconds())
    if seconds > 0:
        tokens.put(key, grant, seconds)
    return grant


def passes_through(raw_path: str, prefixes: tuple[str, ...]) -> bool:
    """True if the path lies under one of `prefixes`, each a whole number of segments
    (`/my-api` covers `/my-api` and `/my-api/x`, not `/my-apix`; `/` covers every path)."""
    path = raw_path.split("?", 1)[0]
    return any(
        prefix == "/" or path == prefix.rstrip("/") or path.startswith(prefix.rstrip("/") + "/") for prefix in prefixes
    )


@sensitive_variables("token")
def decide(method: str, raw_uri: str, token: str | None, *, passthrough: tuple[str, ...] = ()) -> Decision:
    """The answer to `method raw_uri` with `token` (None: no Authorization header);
    `passthrough`: the path prefixes under which a path the table does not know may pass."""
    return limited(judged(method, raw_uri, token, passthrough=passthrough))


@sensitive_variables("token")
def judged(
    method: str,
    raw_uri: str,
    token: str | None,
    *,
    passthrough: tuple[str, ...] = (),
    grant_of: Callable[[str], Grant | None] = grant_for,
) -> Decision:
    """`decide` but for the key's rate limit: a 200 here is an allow that `limited` may still
    turn into a 429. `grant_of` finds the token's grant (the fast lane gives the one it found
    in `tokens`); nothing else here changes any state."""
    found = lookup(method, raw_uri)
    if found.refused:
        return Decision(404, "unknown_route", found.refused, outcome=usage.UNKNOWN_ROUTE)
    match = found.match
    if match is None and (found.known_path or not passes_through(raw_uri, passthrough)):
        return Decision(
            404, "unknown_route", "No route of the API has this method and path.", outcome=usage.UNKNOWN_ROUTE
        )
    route = match.route if match is not None else None
    if route is not None and not route.token_required:
        return Decision(200, route=route)
    if token is None:
        return Decision(401, description="An access token is required.", route=route, outcome=usage.INVALID_TOKEN)
    grant = grant_of(token)
    if grant is None:
        return Decision(
            401,
            "invalid_token",
            "The access token is invalid, expired or revoked.",
            route=route,
            outcome=usage.INVALID_TOKEN,
        )
    # The tenants the path names: a route's {tenant}, or for a path the table does not know
    # the segments in the places the table has one (gateway/paths.py).
    named = found.tenants if match is None else frozenset(filter(None, [match.tenant]))
    if not named <= {grant.token.tenant_code}:
        return Decision(
            403,
            "insufficient_scope",
            "The access token belongs to another tenant.",
            grant=grant,
            route=route,
            outcome=usage.OTHER_TENANT,
        )
    if route is not None and not route.opened_by(grant.token.scopes):
        return Decision(
            403,
            "insufficient_scope",
            "The access token holds none of the scopes this route accepts.",
            scope=" ".join(route.any_of_scopes),
            grant=grant,
            route=route,
            outcome=usage.INSUFFICIENT_SCOPE,
        )
    return Decision(200, grant=grant, route=route)


def limited(decision: Decision) -> Decision:
    """A judged decision with its key's rate limit applied: an allow with a token counts one
    call of its key, and past the limit becomes the 429."""
    if decision.status != 200 or decision.grant is None:
        return decision
    return _within_rate_limit(decision.grant, decision.route) or decision


def counted(decision: Decision, environ: Mapping[str, Any]) -> Decision:
    """Count the decision per key, secret, operation and outcome (kernel.usage: memory only),
    and remember where an allowed key was used from (`environ`: the request's WSGI environ or
    request.META, for its client address)."""
    token = decision.grant.token if decision.grant is not None else None
    usage.count(
        tenant_id=token.tenant_id if token else None,
        key_id=token.key_id if token else None,
        secret_id=token.secret_id if token else None,
        operation=decision.operation,
        outcome=decision.outcome,
    )
    if token is not None and decision.status == 200:
        usage.seen(key_id=token.key_id, address=client_address(environ))
    return decision


def _within_rate_limit(grant: Grant, route: Route | None) -> Decision | None:
    """None if the key of an otherwise allowed call has no rate limit or is within it; else
    the 429 (counted as KEY_RATE_LIMITED by the view, as every decision is). The limit came
    with the verified token: no query."""
    token = grant.token
    now = time.time()
    wait = key_limits.key_rate_hit(
        family=key_limits.GATEWAY,
        key_id=token.key_id,
        limit=token.rate_limit,
        period=token.rate_limit_period,
        now=now,
    )
    if wait is None:
        return None
    return Decision(
        429,
        "slow_down",
        "The rate limit of the access token's key is reached; wait Retry-After seconds.",
        grant=grant,
        route=route,
        retry_after=wait,
        outcome=usage.KEY_RATE_LIMITED,
    )
