"""Limits on everything that checks a password or a second factor, in fixed windows
(kernel.ratelimit: the shared cache, or this process's memory while the cache fails).

- Logins (the portal's form and /admin/login/): per (e-mail, client address) and per client
  address. An attempt is counted before its password is checked and taken back if it
  succeeds, so concurrent attempts never get more passwords checked than the limit; and an
  e-mail hammered from one address never has its correct password refused from another.
- Second factors at login, re-authentication and the current password on a password change:
  per user and per client address, counted the same way. Only someone who already has the
  user's password (second factor) or session (the others) can spend these, so a per-user
  limit locks out no stranger's victim; it stops a code or password being guessed.
- Password reset mails: every request, per e-mail and per client address (no refunds: each
  one may send a mail)."""

import time
from collections.abc import Callable

from django.conf import settings

from kernel import ratelimit


def _login_counters(email: str, address: str) -> list[ratelimit.Counter]:
    return [
        ratelimit.Counter("login:fail:ea", (email.strip().lower(), address), settings.LOGIN_FAILURE_LIMIT_PER_EMAIL),
        ratelimit.Counter("login:fail:a", (address,), settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS),
    ]


def _user_counters(kind: str, user_id: object, address: str) -> list[ratelimit.Counter]:
    return [
        ratelimit.Counter(f"{kind}:fail:u", (str(user_id),), settings.ACCOUNT_FAILURE_LIMIT_PER_USER),
        ratelimit.Counter(f"{kind}:fail:a", (address,), settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS),
    ]


def _hit(counters: list[ratelimit.Counter], window: int) -> int | None:
    return ratelimit.hit(counters, window=window, now=time.time())


def _refund(counters: list[ratelimit.Counter], window: int) -> None:
    ratelimit.refund(counters, window=window, now=time.time())


def attempt(email: str, address: str) -> int | None:
    """Count a login attempt. Returns the seconds to wait if it is one too many (its password
    must then not be checked), else None."""
    return _hit(_login_counters(email, address), settings.LOGIN_FAILURE_WINDOW)


def succeeded(email: str, address: str) -> None:
    """The attempt logged in: it is not a failure."""
    _refund(_login_counters(email, address), settings.LOGIN_FAILURE_WINDOW)


def checked(kind: str, user_id: object, address: str, check: Callable[[], bool]) -> bool | int:
    """Run `check()` (a second factor, a re-authentication, a current password) unless this
    user or address is past its limit of failures of `kind`. Returns check()'s result, or the
    seconds to wait (an int) without running it. A passing check is not counted."""
    counters = _user_counters(kind, user_id, address)
    wait = _hit(counters, settings.LOGIN_FAILURE_WINDOW)
    if wait is not None:
        return wait
    if check():
        _refund(counters, settings.LOGIN_FAILURE_WINDOW)
        return True
    return False


def reset_mail_requested(email: str, address: str) -> int | None:
    """Count a password reset request; the seconds to wait if it is one too many."""
    counters = [
        ratelimit.Counter("reset:ea", (email.strip().lower(),), settings.PASSWORD_RESET_LIMIT_PER_EMAIL),
        ratelimit.Counter("reset:a", (address,), settings.PASSWORD_RESET_LIMIT_PER_ADDRESS),
    ]
    return _hit(counters, settings.PASSWORD_RESET_WINDOW)
