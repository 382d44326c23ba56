"""How long a login lasts, and ending logins.

Every login (the portal's form, a passkey, /admin/login/) stamps its session with when it began
and when it was last seen. SessionLifetimeMiddleware logs the session out, on the server, once
it has gone SESSION_IDLE_TIMEOUT seconds without a request or SESSION_ABSOLUTE_LIFETIME seconds
since the login, whichever comes first; the request then goes on logged out (to the login
page, for any page that needs a login). "Last seen" is written at most once a minute per
session (the session and its allauth UserSession row), so the idle timeout may end a session
up to a minute early, never late.

Every login also gets an allauth UserSession row (device, address, last seen), which is how
My Account lists sessions and how a password or MFA change ends the others."""

import time
from collections.abc import Callable

from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse

LOGIN_AT = "portal_login_at"
SEEN_AT = "portal_seen_at"
ENDED = "portal_session_ended"  # why the last login ended, shown on the login page
TOUCH_INTERVAL = 60  # seconds between writes of "last seen"


def started(request: HttpRequest, user: AbstractBaseUser) -> None:
    """Stamp a new login's session and give it a UserSession row (user_logged_in)."""
    now = time.time()
    request.session[LOGIN_AT] = now
    request.session[SEEN_AT] = now
    UserSession.objects.create_from_request(request, user=user)


def _ended_by(request: HttpRequest, now: float) -> str | None:
    session = request.session
    login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
    if login_at is None or seen_at is None:  # logged in before these stamps existed
        session[LOGIN_AT] = session.get(LOGIN_AT, now)
        session[SEEN_AT] = now
        return None
    if now - login_at >= settings.SESSION_ABSOLUTE_LIFETIME:
        return "lifetime"
    if now - seen_at >= settings.SESSION_IDLE_TIMEOUT:
        return "idle"
    return None


class SessionLifetimeMiddleware:
    """Ends logins that are idle or too old (see the module's docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)  # none on the token service's paths
        if user is not None and user.is_authenticated:
            now = time.time()
            reason = _ended_by(request, now)
            if reason:
                logout(request)  # deletes the session on the server, and its cookie
                request.session[ENDED] = reason
            elif now - request.session[SEEN_AT] >= TOUCH_INTERVAL:
                request.session[SEEN_AT] = now
                UserSession.objects.create_from_request(request)  # last seen, address, device
        return self.get_response(request)


def end_other_sessions(request: HttpRequest, user: AbstractBaseUser) -> int:
    """End every session of `user` but this request's; how many were ended."""
    others = UserSession.objects.filter(user_id=user.pk).exclude(session_key=request.session.session_key or "")
    return _end(others)


def end_all_sessions(user: AbstractBaseUser) -> int:
    return _end(UserSession.objects.filter(user_id=user.pk))


def _end(sessions) -> int:
    ended = 0
    for session in sessions:
        session.end()  # the Django session row, then the UserSession row
        ended += 1
    return ended
