"""The token endpoint's fast lane (issue 22): a WSGI application in front of Django's that
serves the plain client-credentials request itself, calling the same service the view calls
(`services.client_credentials_grant`), without building Django's request, running the
middleware or resolving the URL. Half of a token request's CPU went to those.

It takes a request only when all of these hold; otherwise Django serves it, as without it:
- TOKEN_FAST_LANE is on, MIDDLEWARE is the list the lanes were written for
  (kernel.fastlane.MIDDLEWARE), and /oauth/token resolves to the token view;
- `POST /oauth/token`, with no query string, no script prefix, no Origin header (no CORS: the
  origin checks only apply with one) and no Cookie header (CSRF middleware may set a cookie);
- the middleware would pass it on unchanged (kernel.fastlane.LaneConfig.passes: Host, HTTPS);
- the body is `application/x-www-form-urlencoded` (exactly that type), at most MAX_BODY bytes,
  ASCII, each of `grant_type` and `scope` at most once and nothing else;
- HTTP Basic credentials that the view's own parser (`views._credentials`) accepts.

Then it does what Django's handler, the middleware and the view do for it, in their order:
request_started, the request's id, the service's Outcome (every status: the checks, limits,
usage counting and tenant note are the service's), the JSON answer with the headers the view
(`json_response`, `cross_origin`'s `Vary`) and the middleware (kernel.fastlane) add, the
request line, the metrics, and request_finished when the server closes the answer.

If the service raises (the database is down, say), the lane hands the request and the error to
Django (`views.LANE_HANDED_ENVIRON_KEY`): the view raises it where it would have met it, so
the answer is its 503 or 500, logged as always, and the request keeps its id. An Outcome of 500
or more (a signing key that cannot be decrypted) goes to the view the same way, for Django to
report with its request. The service is not called twice. What is written again here is the shape of the answer, held to the Django
path's by oauth/tests/test_fastlane.py. TOKEN_FAST_LANE=off turns the lane off."""

import io
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from http.client import responses
from typing import Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.signals import request_finished, request_started
from django.urls import Resolver404, resolve, set_script_prefix
from django.views.decorators.debug import sensitive_variables

from kernel import logs, metrics
from kernel.fastlane import Configured, LaneConfig
from kernel.net import client_address

from . import services
from .services import OAuthError
from .views import LANE_HANDED_ENVIRON_KEY, _credentials

StartResponse = Callable[..., Any]

_request_logger = logging.getLogger("django.request")

PATH = "/oauth/token"
VIEW = "oauth:token"
FORM = "application/x-www-form-urlencoded"
# A client-credentials body is some 30 bytes, with the Emporix API key's scopes about 4 KB;
# larger ones go to Django.
MAX_BODY = 8192
FIELDS = frozenset({"grant_type", "scope"})
# The request's WSGI environ: whether the lane answered it (tests read it).
ANSWERED_ENVIRON_KEY = "portal.token_lane_answered"


class _Config(LaneConfig):
    """The lane's settings (kernel.fastlane.LaneConfig) and the token endpoint's route."""

    def __init__(self) -> None:
        super().__init__(settings.TOKEN_FAST_LANE)
        try:
            match = resolve(PATH, self.urlconf)
        except Resolver404:
            match = None
        if match is None or match.view_name != VIEW:
            self.on = False
        self.route = VIEW  # metrics.route_of: the pattern's name
        self.component = metrics.component_of(PATH)
        self.charset = settings.DEFAULT_CHARSET
        self.max_fields = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS


config: Configured[_Config] = Configured(_Config)


class _Meta:
    """What `views._credentials` reads of a request: its META."""

    __slots__ = ("META",)

    def __init__(self, environ: Mapping[str, Any]) -> None:
        self.META = environ


class _Answer(list):
    """The answer's body; closing it ends the request as closing Django's response does."""

    def close(self) -> None:
        request_finished.send(sender=TokenLane)


class TokenLane:
    """The WSGI application: `TokenLane(django_application)` (portal/wsgi.py)."""

    def __init__(self, application: Callable[[dict, StartResponse], Iterable[bytes]]) -> None:
        self.application = application

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == PATH and environ.get("REQUEST_METHOD") == "POST":
            conf = config()
            if conf.on:
                answered = self._answer(environ, conf)
                if answered is not None:
                    status, headers, body = answered
                    start_response(status, headers)
                    return _Answer([body])
        return self.application(environ, start_response)

    @sensitive_variables("client_secret", "outcome", "accepted")
    def _answer(self, environ: dict, conf: _Config) -> tuple[str, list[tuple[str, str]], bytes] | None:
        """The status, headers and body the lane answered with, or None for Django to answer
        (then the body is there for it to read again)."""
        try:
            accepted = _accepted(environ, conf)
        except Exception:
            # Django meets the same (an unreadable body, say) and answers it as it does.
            return None
        if accepted is None:
            return None
        secure, form, client_id, client_secret = accepted
        set_script_prefix("/")  # as WSGIHandler does (a script prefix went to Django above)
        request_started.send(sender=TokenLane, environ=environ)
        started = time.perf_counter()  # MetricsMiddleware's clock
        began = time.monotonic()  # RequestLogMiddleware's
        request_id = logs.request_begun(environ)
        try:
            outcome = services.client_credentials_grant(
                client_id=client_id,
                client_secret=client_secret,
                grant_type=form.get("grant_type"),
                scope=form.get("scope"),
                address=client_address(environ),
            )
        except Exception as exc:
            return _handed_on(environ, exc, request_id)
        if outcome.status >= 500:  # Django's handler reports it with the request
            return _handed_on(environ, outcome, request_id)
        content = json.dumps(outcome.body).encode()
        headers = [
            ("Content-Type", "application/json; charset=utf-8"),  # JsonCharsetMiddleware's charset
            *outcome.headers.items(),
            ("Cache-Control", "no-store"),
            ("Pragma", "no-cache"),
            ("Vary", "Origin"),
            *conf.headers_after(secure, len(content)),
            ("X-Request-ID", request_id),
        ]
        logs.request_logged("POST", PATH, outcome.status, began, logs.current_tenant())
        reason = responses[outcome.status]
        if outcome.status >= 400:  # as Django's handler logs every 4xx (django.utils.log.log_response)
            _request_logger.warning("%s: %s", reason, PATH, extra={"status_code": outcome.status, "request": None})
        metrics.request_counted(conf.component, conf.route, outcome.status, time.perf_counter() - started)
        environ[ANSWERED_ENVIRON_KEY] = True
        return f"{outcome.status} {reason}", headers, content


def _handed_on(environ: dict, handed: Exception | services.Outcome, request_id: str) -> None:
    """Leave what the service came to for the view, which raises or answers it as its own, and
    the request's id, which it keeps; Django answers (the lane returns None)."""
    environ[LANE_HANDED_ENVIRON_KEY] = handed
    environ[logs.REQUEST_ID_ENVIRON_KEY] = request_id


@sensitive_variables("body", "form", "client_secret")
def _accepted(environ: dict, conf: _Config) -> tuple[bool, dict[str, str], str, str] | None:
    """Whether the request came over HTTPS, its form, Client ID and secret, if the lane serves
    it; else None. Counts nothing: a request refused here is Django's to answer and count."""
    if (
        environ.get("QUERY_STRING")
        or "HTTP_ORIGIN" in environ
        or environ.get("HTTP_COOKIE")
        or environ.get("CONTENT_TYPE") != FORM
        or "HTTP_AUTHORIZATION" not in environ
    ):
        return None
    secure = conf.passes(environ)
    if secure is None:
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    if not 0 < length <= MAX_BODY:
        return None
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)  # for Django, if the lane hands it on
    form = _form(body, conf)
    if form is None:
        return None
    try:
        client_id, client_secret = _credentials(_Meta(environ), form)
    except OAuthError:
        return None  # the view answers it, and counts it against the address
    if client_id is None or client_secret is None:
        return None
    return secure, form, client_id, client_secret


def _form(body: bytes, conf: _Config) -> dict[str, str] | None:
    """The form's fields as Django's QueryDict reads them, or None where the lane leaves the
    body to Django: not ASCII, a field other than FIELDS, or a repeated one."""
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        return None
    try:
        pairs = parse_qsl(text, keep_blank_values=True, encoding=conf.charset, max_num_fields=conf.max_fields)
    except ValueError:
        return None
    form = dict(pairs)
    if len(form) != len(pairs) or not form.keys() <= FIELDS:
        return None
    return form
