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

import atexit
import functools
import ipaddress
import logging
import math
import os
import threading
import time
import uuid
from collections.abc import Callable
from typing import NamedTuple

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connections
from django.utils.translation import gettext_noop

logger = logging.getLogger(__name__)

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
UNKNOWN_CLIENT = "unknown_client"  # a Client ID of no key (or, at the anonymous login, of no Storefront key)
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
# outcome -> what the portal's pages call it, in English: marked for translation only (no
# translation machinery on the counting path); usage.queries.outcome_label translates it.
OUTCOMES: dict[str, str] = {
    ISSUED: gettext_noop("Token issued"),
    ALLOWED: gettext_noop("Allowed"),
    WRONG_SECRET: gettext_noop("Wrong secret"),
    UNKNOWN_CLIENT: gettext_noop("Unknown Client ID"),
    KEY_EXPIRED: gettext_noop("Key expired"),
    KEY_DISABLED: gettext_noop("Key disabled"),
    NETWORK_REFUSED: gettext_noop("Address outside the key's networks"),
    ORIGIN_REFUSED: gettext_noop("Origin not allowed"),
    RATE_LIMITED: gettext_noop("Too many failures or sessions"),
    KEY_RATE_LIMITED: gettext_noop("Key's rate limit reached"),
    INSUFFICIENT_SCOPE: gettext_noop("Missing scope"),
    OTHER_TENANT: gettext_noop("Another tenant's path"),
    UNKNOWN_ROUTE: gettext_noop("Unknown route"),
    INVALID_TOKEN: gettext_noop("Invalid or expired token"),
    BAD_REQUEST: gettext_noop("Malformed request"),
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
    if _thread is None:
        _start()


@functools.lru_cache(maxsize=4096)
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
    if _thread is None:
        _start()


def drain() -> tuple[dict[Count, int], dict[int, Seen]]:
    """Take everything counted so far in this process (and start again from nothing)."""
    global _counts, _seen
    with _lock:
        counts, seen_ = _counts, _seen
        _counts, _seen = {}, {}
    return counts, seen_


def forget() -> None:
    """Drop everything counted and not handed on, pushes waiting included (tests)."""
    global _pending
    with _push_lock:
        drain()
        _pending = []


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


# --- Handing the counts on ----------------------------------------------------------------------
# One thread per process, started by the first count (and again in a forked child: gunicorn
# forks its workers, and a thread does not survive a fork), wakes every USAGE_PUSH_SECONDS and
# hands on what was counted: to Redis in one atomic script when the default cache is Redis, else
# to the sink the usage app registered (the roll-ups themselves). A request never waits for it.
# When the hand-on fails (Redis down or frozen), the push waits in memory as it is and is sent
# again next time, under the same id, so that Redis applies it once even if it had received it
# before the failure; past MAX_KEPT_COUNTERS distinct counters waiting the oldest pushes are
# dropped, and how many calls that lost is logged once per WARNING_INTERVAL_SECONDS.

MAX_KEPT_COUNTERS = 100_000  # about 20 MB; a busy process makes a few hundred a minute
# Counters per push: Redis runs a script alone, holding up every other client (the rate limits
# of token requests among them), so a large hand-on goes as several short ones, each applied
# once under its own id.
PUSH_CHUNK = 2_000
WARNING_INTERVAL_SECONDS = 60.0

# Redis's names (under the cache's KEY_PREFIX and VERSION): a hash per minute of counts, the set
# of those hashes, a hash of last uses, and the set of batches the flush has taken (usage.flush).
MINUTES = "usage:minutes"
SEEN = "usage:seen"
BATCHES = "usage:batches"


def minute_hash(minute: int) -> str:
    return f"usage:m:{minute}"


Sink = Callable[[dict[Count, int], dict[int, "Seen"]], None]
_sink: Sink | None = None
_thread: threading.Thread | None = None
_thread_lock = threading.Lock()
_stopping = threading.Event()  # the running thread's: set, it ends
_wake = threading.Event()
_push_lock = threading.Lock()  # one hand-on at a time (the thread's, or the exit's)
_dropped = 0  # calls dropped and not yet said
_last_warning: dict[str, float] = {}  # message -> when it was last logged (monotonic)


def sink_set(sink: Sink | None) -> None:
    """Where counts go without a shared cache (the usage app writes them into the roll-ups)."""
    global _sink
    _sink = sink


def field_of(counter: Count) -> str:
    """A counter's field in its minute's Redis hash (the minute is the hash's name)."""
    parts = (counter.tenant_id, counter.key_id, counter.secret_id, counter.operation, counter.outcome)
    return "\t".join("" if part is None else str(part) for part in parts)


def counter_of(minute: int, field: str | bytes) -> Count:
    """The counter a minute's hash field stands for (`field_of`'s inverse)."""
    text = field.decode() if isinstance(field, bytes) else field
    tenant, key, secret, operation, outcome = text.split("\t")
    number = lambda part: int(part) if part else None  # noqa: E731
    return Count(minute, number(tenant), number(key), number(secret), operation, outcome)


# One push, applied at most once: its id is remembered for PUSH_ID_SECONDS (far longer than a
# retry waits), so that a push whose answer was lost (a timeout after Redis had received it, as
# when Redis is frozen) can be sent again without being counted twice. Then each counter is added
# to its minute's hash, the hash named in the set of minutes, and each key's last use kept as the
# newer of the stored and the pushed one. Atomic, like the flush's take (usage.flush).
# KEYS: the push's id, the set of minutes, the last uses. ARGV: the id's lifetime, the number of
# counters, (hash, field, calls) per counter, then (key id, "time network") per last use.
PUSH_ID_SECONDS = 3600
_PUSH_SCRIPT = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', tonumber(ARGV[1])) then return 0 end
local i, last = 3, 2 + 3 * tonumber(ARGV[2])
while i <= last do
  redis.call('HINCRBY', ARGV[i], ARGV[i + 1], ARGV[i + 2])
  redis.call('SADD', KEYS[2], ARGV[i])
  i = i + 3
end
while i <= #ARGV do
  local current = redis.call('HGET', KEYS[3], ARGV[i])
  if not current or tonumber(string.match(current, '^[^ ]+')) < tonumber(string.match(ARGV[i + 1], '^[^ ]+')) then
    redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
  end
  i = i + 2
end
return 1
"""


class _Pending(NamedTuple):
    """Counts drained together, handed on as one under an id of their own (until that works)."""

    id: str
    counts: dict[Count, int]
    seen: dict[int, Seen]


_pending: list[_Pending] = []  # oldest first


def redis_client(backend: RedisCache):
    """Django's own redis-py client for the cache (its pool and timeouts); no public API hands
    it out (kernel.ratelimit does the same)."""
    return backend._cache.get_client(write=True)


def _redis_push(backend: RedisCache, pending: _Pending) -> None:
    args: list[object] = [PUSH_ID_SECONDS, len(pending.counts)]
    for counter, calls in pending.counts.items():
        args += [backend.make_key(minute_hash(counter.minute)), field_of(counter), calls]
    for key_id, entry in pending.seen.items():
        args += [key_id, f"{entry.at!r} {entry.network}"]
    keys = [backend.make_key(f"usage:push:{pending.id}"), backend.make_key(MINUTES), backend.make_key(SEEN)]
    redis_client(backend).register_script(_PUSH_SCRIPT)(keys=keys, args=args)


def _hand_on(pending: _Pending) -> None:
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        _redis_push(backend, pending)
    elif _sink is not None:
        try:
            _sink(pending.counts, pending.seen)  # one transaction: a failure leaves nothing behind
        finally:
            if threading.current_thread() is _thread:
                connections.close_all()  # the hand-on thread's own connections


def _warn(message: str, *args: object) -> bool:
    """Log `message` once per WARNING_INTERVAL_SECONDS at most; True if it was logged."""
    moment = time.monotonic()
    if moment - _last_warning.get(message, -math.inf) < WARNING_INTERVAL_SECONDS:
        return False
    _last_warning[message] = moment
    logger.warning(message, *args)
    return True


def _keep_bounded() -> None:
    """Past MAX_KEPT_COUNTERS waiting, drop the oldest pushes (and say so, once a while); the
    newest is always kept."""
    global _dropped
    while len(_pending) > 1 and sum(len(p.counts) for p in _pending) > MAX_KEPT_COUNTERS:
        _dropped += sum(_pending.pop(0).counts.values())
    if _dropped and _warn(
        "Usage counts: %s calls dropped (the hand-on has failed for long; memory is capped)", _dropped
    ):
        _dropped = 0


def push() -> bool:
    """Hand on what this process counted, after whatever earlier pushes still wait (the
    background thread calls it; so does the exit). False if it failed: the counts then wait,
    as they are, for the next time."""
    with _push_lock:
        counts, seen_ = drain()
        items = list(counts.items())
        for start in range(0, len(items), PUSH_CHUNK):
            _pending.append(_Pending(uuid.uuid4().hex, dict(items[start : start + PUSH_CHUNK]), {}))
        if seen_:
            _pending.append(_Pending(uuid.uuid4().hex, {}, seen_))
        while _pending:
            try:
                _hand_on(_pending[0])
            except Exception as error:  # Redis refused or timed out, the database is down, ...
                _keep_bounded()
                _warn("Usage counts kept in memory: handing them on failed (%s); retrying", type(error).__name__)
                return False
            _pending.pop(0)
        return True


def _run(stopping: threading.Event) -> None:
    while not stopping.is_set():
        _wake.wait(max(settings.USAGE_PUSH_SECONDS, 0.01))
        _wake.clear()
        push()


def _start() -> None:
    """Start this process's hand-on thread; none while USAGE_PUSH_SECONDS is 0 (the tests hand
    on by calling push())."""
    global _thread, _stopping
    if settings.USAGE_PUSH_SECONDS <= 0:
        return
    with _thread_lock:
        if _thread is None:
            _stopping = threading.Event()
            _thread = threading.Thread(target=_run, args=(_stopping,), name="usage-push", daemon=True)
            _thread.start()


def stop() -> None:
    """End the hand-on thread and hand on what is left (a process's exit; tests). The next
    count starts a thread again."""
    global _thread
    with _thread_lock:
        thread, _thread = _thread, None
        if thread is None:
            return
        _stopping.set()
        _wake.set()
    thread.join()
    push()


def _forked() -> None:
    """In a forked child: no thread, fresh locks, and none of the parent's counts (the parent
    hands those on itself)."""
    global _thread, _lock, _push_lock, _thread_lock, _counts, _seen, _pending, _wake, _stopping
    _thread, _counts, _seen, _pending = None, {}, {}, []
    _lock, _push_lock, _thread_lock = threading.Lock(), threading.Lock(), threading.Lock()
    _wake, _stopping = threading.Event(), threading.Event()


os.register_at_fork(after_in_child=_forked)


@atexit.register
def _exit() -> None:
    # Hand on what is left when the process ends (gunicorn's worker_exit calls stop() too).
    stop()
