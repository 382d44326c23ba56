"""Fixed-window failure counters in Django's cache (local memory, or Redis shared by every
instance). Used by the token service's client authentication and by the portal's login.

A counter is created with cache.add and bumped with cache.incr, so concurrent failures are
not lost; it expires with its window, so nobody is locked out for good. Counted values (Client
IDs, e-mail addresses, client addresses) appear in cache keys only as digests."""

import math
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.cache import cache

from apikeys import crypto


@dataclass(frozen=True)
class Counter:
    prefix: str  # e.g. "oauth:fail:c"
    value: str  # what is counted; an empty value is not counted
    limit: int  # failures allowed per window


def _window_start(now: float, window: int) -> int:
    return int(now // window) * window


def _keys(counters: Iterable[Counter], start: int) -> dict[str, int]:
    return {f"{c.prefix}:{crypto.digest(c.value).hex()[:32]}:{start}": c.limit for c in counters if c.value}


def retry_after(counters: Iterable[Counter], *, window: int, now: float) -> int | None:
    """Seconds to the end of the window if any counter has reached its limit, else None."""
    start = _window_start(now, window)
    keys = _keys(counters, start)
    counts = cache.get_many(list(keys))
    if any(counts.get(key, 0) >= limit for key, limit in keys.items()):
        return max(1, math.ceil(start + window - now))
    return None


def record_failure(counters: Iterable[Counter], *, window: int, now: float) -> None:
    for key in _keys(counters, _window_start(now, window)):
        cache.add(key, 0, timeout=window + 5)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr: start again
            cache.add(key, 1, timeout=window + 5)
