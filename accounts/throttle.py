"""Failed portal logins are counted per e-mail address and per client address in Django's
cache, in fixed windows, like the token endpoint's client authentication. Past the limit the
login form refuses to check passwords until the window ends: nobody is locked out for good."""

import math
import time

from django.conf import settings
from django.core.cache import cache

from apikeys import crypto


def _window() -> tuple[int, int]:
    length = settings.LOGIN_FAILURE_WINDOW
    start = int(time.time() // length) * length
    return start, start + length


def _keys(email: str, address: str, start: int) -> dict[str, int]:
    def name(kind: str, value: str) -> str:
        # Digests keep e-mail addresses out of the cache's key space (and its logs).
        return f"login:fail:{kind}:{crypto.digest(value).hex()[:32]}:{start}"

    keys = {}
    if email:
        keys[name("e", email.strip().lower())] = settings.LOGIN_FAILURE_LIMIT_PER_EMAIL
    if address:
        keys[name("a", address)] = settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS
    return keys


def retry_after(email: str, address: str) -> int | None:
    """Seconds until this e-mail and address may try again, or None if they may now."""
    start, end = _window()
    keys = _keys(email, address, start)
    counts = cache.get_many(list(keys))
    if any(counts.get(key, 0) >= limit for key, limit in keys.items()):
        return max(1, math.ceil(end - time.time()))
    return None


def record_failure(email: str, address: str) -> None:
    start, _ = _window()
    for key in _keys(email, address, start):
        cache.add(key, 0, timeout=settings.LOGIN_FAILURE_WINDOW + 5)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=settings.LOGIN_FAILURE_WINDOW + 5)
