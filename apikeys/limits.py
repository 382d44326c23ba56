"""A key's own rate limit (docs/keys.md, "Rate limit per key"): at most N requests a second
or a minute, enforced by the token service (token issuance, the Storefront anonymous login and
refresh) and by the gateway check, each on its own counter.

The counters are kernel.ratelimit's fixed windows, in the shared cache (Redis), so the limit
holds across every instance: the cache's atomic increment decides, and in a window exactly
`limit` requests of the key pass, whichever instances they reach. When the cache cannot be
reached, kernel.ratelimit counts in each process's memory instead, so the limit fails open to
one limit per process, as the portal's other limits do; it never refuses for want of Redis. A
key without a limit costs nothing: no counter, no cache call.

How often a key's limit was reached is the usage app's to know (it counts each refusal,
kernel.usage.KEY_RATE_LIMITED): it registers a reader here (`reached_register`) from its
AppConfig.ready(), so that the keys pages show it without this app importing usage."""

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import NamedTuple

from kernel import ratelimit

from .models import RATE_WINDOWS, RatePeriod

# The counter families: a token request and a gateway check are limited separately, each to
# the key's limit (a client asks for a token now and then and calls the API with it often).
TOKEN = "key:rate:token"
GATEWAY = "key:rate:gateway"


def rate_window(period: str) -> int:
    """Seconds in the window of a key's rate limit period."""
    return RATE_WINDOWS[RatePeriod(period or RatePeriod.MINUTE)]


def key_rate_hit(*, family: str, key_id: int, limit: int | None, period: str, now: float) -> int | None:
    """Count one request of the key on `family` (TOKEN or GATEWAY) if it has a limit. Returns
    the seconds to wait (Retry-After, at least 1) if this request went past the limit, else
    None. No limit: None at once, without touching the cache."""
    if not limit:
        return None
    counter = ratelimit.Counter(family, (str(key_id),), limit)
    return ratelimit.hit([counter], window=rate_window(period), now=now)


class Reached(NamedTuple):
    """How many requests a key's rate limit refused, over the last day and the last 30 days."""

    day: int
    month: int


NEVER = Reached(0, 0)
_reached: Callable[[list[int], datetime], dict[int, Reached]] | None = None


def reached_register(reader: Callable[[list[int], datetime], dict[int, Reached]]) -> None:
    """Set the reader of refusals per key (the usage app's): key ids and now -> {key id: Reached}
    for the keys that were refused at all. A constant number of queries for any number of keys."""
    global _reached
    _reached = reader


def reached(key_ids: Iterable[int], now: datetime) -> dict[int, Reached]:
    """Refusals per key by its rate limit, for the keys among `key_ids` that had any (none
    known when no reader is registered)."""
    ids = list(key_ids)
    if _reached is None or not ids:
        return {}
    return _reached(ids, now)
