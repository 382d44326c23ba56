"""Usage counting on the hot paths (issue 21): what each key did, counted without a database
write per request.

The token service and the gateway check call `count()` once per decision and `seen()` once per
successful use. Both only touch this process's memory (a dict under a lock: about a
microsecond); a background thread of the process hands the counts on every USAGE_PUSH_SECONDS
(to Redis when the shared cache is Redis, else straight to the roll-up tables), and the
`usage_flush` worker moves what Redis holds into PostgreSQL's roll-ups per minute, hour and day
(usage/). Nothing here knows those tables: the usage app registers the sink (`sink_set`).

What is counted, per minute: (tenant, key, secret, operation, outcome) -> calls. `operation` is
a route's operation id from the route table for the gateway check, or one of the token
service's OPERATION_* names; `outcome` is one of OUTCOMES. No secret, token or full client
address is ever kept: `seen()` keeps the network (IPv4 /24, IPv6 /48) only.
"""

import ipaddress
import threading
import time
from typing import NamedTuple

from django.conf import settings

# Operations of the token service (the gateway's are the route table's operation ids).
OPERATION_TOKEN = "oauth.token"
OPERATION_ANONYMOUS_LOGIN = "anonymous.login"
OPERATION_ANONYMOUS_REFRESH = "anonymous.refresh"
# A gateway decision on a path the route table does not know.
OPERATION_UNKNOWN = "unknown"
OPERATION_PASSTHROUGH = "passthrough"

# Outcomes. Successes first: SUCCESSES is what "last used" and the success rate count.
ISSUED = "issued"  # a token (or anonymous session) was issued
ALLOWED = "allowed"  # the gateway let the call through
WRONG_SECRET = "wrong_secret"
KEY_EXPIRED = "key_expired"
KEY_DISABLED = "key_disabled"
NETWORK_REFUSED = "network_refused"  # the client's address is outside the key's networks
ORIGIN_REFUSED = "origin_refused"  # a browser origin the key does not allow
RATE_LIMITED = "rate_limited"  # a failure or per-address limit of the token service
KEY_RATE_LIMITED = "key_rate_limited"  # the key's own rate limit
INSUFFICIENT_SCOPE = "insufficient_scope"
OTHER_TENANT = "other_tenant"
UNKNOWN_ROUTE = "unknown_route"
INVALID_TOKEN = "invalid_token"
BAD_REQUEST = "bad_request"

SUCCESSES = frozenset({ISSUED, ALLOWED})
OUTCOMES: dict[str, str] = {  # outcome -> what the portal's pages call it
    ISSUED: "Token issued",
    ALLOWED: "Allowed",
    WRONG_SECRET: "Wrong secret",
    KEY_EXPIRED: "Key expired",
    KEY_DISABLED: "Key disabled",
    NETWORK_REFUSED: "Address outside the key's networks",
    ORIGIN_REFUSED: "Origin not allowed",
    RATE_LIMITED: "Too many failures or sessions",
    KEY_RATE_LIMITED: "Key's rate limit reached",
    INSUFFICIENT_SCOPE: "Missing scope",
    OTHER_TENANT: "Another tenant's path",
    UNKNOWN_ROUTE: "Unknown route",
    INVALID_TOKEN: "Invalid or expired token",
    BAD_REQUEST: "Malformed request",
}


class Count(NamedTuple):
    """What one counter counts: calls in the minute starting at `minute` (Unix seconds)."""

    minute: int
    tenant_id: int | None
    key_id: int | None
    secret_id: int | None
    operation: str
    outcome: str


class Seen(NamedTuple):
    network: str  # "203.0.113.0/24", "2001:db8:1::/48"
    at: float  # Unix seconds


_lock = threading.Lock()
_counts: dict[Count, int] = {}
_seen: dict[int, Seen] = {}  # key id -> its last successful use


def enabled() -> bool:
    return settings.USAGE_COUNTING


def count(
    *,
    tenant_id: int | None,
    key_id: int | None,
    secret_id: int | None,
    operation: str,
    outcome: str,
    now: float | None = None,
) -> None:
    """Count one call. Memory only; never raises, never waits on anything but this lock."""
    if not settings.USAGE_COUNTING:
        return
    moment = time.time() if now is None else now
    counter = Count(int(moment // 60) * 60, tenant_id, key_id, secret_id, operation, outcome)
    with _lock:
        _counts[counter] = _counts.get(counter, 0) + 1


def network_of(address: str | None) -> str:
    """The network an address belongs to, as kept: IPv4 /24, IPv6 /48; "" if unreadable. An
    IPv4-mapped IPv6 address counts as its IPv4 address."""
    if not address:
        return ""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return ""
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def seen(*, key_id: int, address: str | None, now: float | None = None) -> None:
    """Remember a successful use of the key from `address` (kept as its network only)."""
    if not settings.USAGE_COUNTING:
        return
    moment = time.time() if now is None else now
    entry = Seen(network_of(address), moment)
    with _lock:
        previous = _seen.get(key_id)
        if previous is None or previous.at <= moment:
            _seen[key_id] = entry


def drain() -> tuple[dict[Count, int], dict[int, Seen]]:
    """Take everything counted so far in this process (and start again from nothing)."""
    global _counts, _seen
    with _lock:
        counts, seen_ = _counts, _seen
        _counts, _seen = {}, {}
    return counts, seen_


def restore(counts: dict[Count, int], seen_: dict[int, Seen]) -> None:
    """Put back what `drain()` took and could not be handed on (Redis down): counted again
    with whatever came in meanwhile, and handed on with it next time."""
    with _lock:
        for counter, calls in counts.items():
            _counts[counter] = _counts.get(counter, 0) + calls
        for key_id, entry in seen_.items():
            previous = _seen.get(key_id)
            if previous is None or previous.at < entry.at:
                _seen[key_id] = entry
