"""Failed portal logins are counted per e-mail address and per client address, in fixed
windows (portal.ratelimit), like the token endpoint's client authentication. Past the limit
the login form refuses to check passwords until the window ends."""

import time

from django.conf import settings

from portal import ratelimit


def _counters(email: str, address: str) -> list[ratelimit.Counter]:
    return [
        ratelimit.Counter("login:fail:e", email.strip().lower(), settings.LOGIN_FAILURE_LIMIT_PER_EMAIL),
        ratelimit.Counter("login:fail:a", address, settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS),
    ]


def retry_after(email: str, address: str) -> int | None:
    """Seconds until this e-mail and address may try again, or None if they may now."""
    return ratelimit.retry_after(_counters(email, address), window=settings.LOGIN_FAILURE_WINDOW, now=time.time())


def record_failure(email: str, address: str) -> None:
    ratelimit.record_failure(_counters(email, address), window=settings.LOGIN_FAILURE_WINDOW, now=time.time())
