"""Logins (the portal's form and /admin/login/) are limited per (e-mail, client address) and
per client address, in fixed windows (portal.ratelimit). An attempt is counted before its
password is checked and taken back if it succeeds, so concurrent attempts never get more
passwords checked than the limit; and an e-mail hammered from one address never has its
correct password refused from another."""

import time

from django.conf import settings

from portal import ratelimit


def _counters(email: str, address: str) -> list[ratelimit.Counter]:
    return [
        ratelimit.Counter("login:fail:ea", (email.strip().lower(), address), settings.LOGIN_FAILURE_LIMIT_PER_EMAIL),
        ratelimit.Counter("login:fail:a", (address,), settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS),
    ]


def attempt(email: str, address: str) -> int | None:
    """Count a login attempt. Returns the seconds to wait if it is one too many (its password
    must then not be checked), else None."""
    return ratelimit.hit(_counters(email, address), window=settings.LOGIN_FAILURE_WINDOW, now=time.time())


def succeeded(email: str, address: str) -> None:
    """The attempt logged in: it is not a failure."""
    ratelimit.refund(_counters(email, address), window=settings.LOGIN_FAILURE_WINDOW, now=time.time())
