"""The gateway check: one endpoint per proxy convention, each reading the original method and
URI only from the headers its proxy sets (a header meant for another proxy is never read, so a
client cannot pass its own through a proxy that forwards client headers to the check):

  /gateway/nginx     nginx auth_request: X-Original-Method and X-Original-URI, set by
                     deploy/nginx-gateway.conf ($request_method, $request_uri)
  /gateway/traefik   Traefik ForwardAuth: X-Forwarded-Method and X-Forwarded-Uri
  /gateway/envoy/... Envoy ext_authz (HTTP service, path_prefix /gateway/envoy): the original
                     path follows the prefix, the method is the check request's own

Every answer is `no-store`. 200 carries the X-Portal-* headers for the upstream; 401 and 403
carry `WWW-Authenticate` (RFC 6750) and a JSON body, as do 400 and 404; 429 (the key's own
rate limit) a JSON body and `Retry-After`.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_variables

from kernel import usage
from oauth.bearer import MalformedAuthorization, bearer_token_from

from .decisions import DECIDED_ENVIRON_KEY, Decision, counted, decide

ENVOY_PREFIX = "/gateway/envoy"


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _challenge(decision: Decision) -> str:
    """The WWW-Authenticate value (RFC 6750 3): no error code when no token was presented."""
    if not decision.error:
        return "Bearer"
    params = [f'error="{decision.error}"', f'error_description="{_quoted(decision.description)}"']
    if decision.scope:
        params.append(f'scope="{decision.scope}"')
    return "Bearer " + ", ".join(params)


def _respond(decision: Decision) -> HttpResponse:
    if decision.status == 200:
        response = HttpResponse(status=200)
        if decision.grant is not None:
            for name, value in decision.grant.headers.items():
                response[name] = value
        if decision.route is not None:
            response["X-Portal-Operation"] = decision.route.operation_id
    else:
        body = {"error": decision.error or "invalid_token", "error_description": decision.description}
        if decision.scope:
            body["scope"] = decision.scope
        response = JsonResponse(body, status=decision.status)
        # RFC 6750 3.1: invalid_request (400) carries the challenge as 401 and 403 do.
        if decision.status in (400, 401, 403):
            response["WWW-Authenticate"] = _challenge(decision)
        if decision.retry_after:
            response["Retry-After"] = str(decision.retry_after)
        # Refusals are the gateway's everyday answers: the request log has their line, and
        # django.request would add a warning for each.
        response._has_been_logged = True
    response["Cache-Control"] = "no-store"
    return response


def _invalid_request(request: HttpRequest, description: str) -> HttpResponse:
    return _respond(counted(Decision(400, "invalid_request", description, outcome=usage.BAD_REQUEST), request.META))


@sensitive_variables("token")
def _check(request: HttpRequest, method: str | None, uri: str | None) -> HttpResponse:
    if not method or not uri:
        return _invalid_request(request, "The proxy did not send the original method and URI.")
    try:
        token = bearer_token_from(request)
    except MalformedAuthorization as exc:
        return _invalid_request(request, str(exc))
    decision = request.META.get(DECIDED_ENVIRON_KEY)
    if not isinstance(decision, Decision):
        decision = decide(method, uri, token, passthrough=settings.GATEWAY_PASSTHROUGH_PREFIXES)
    return _respond(counted(decision, request.META))


def gateway_check(view):
    """A public, CSRF-exempt endpoint answering any method (proxies send GET, Envoy the
    original request's method)."""
    return login_not_required(csrf_exempt(view))


@gateway_check
def nginx(request: HttpRequest) -> HttpResponse:
    return _check(request, request.headers.get("X-Original-Method"), request.headers.get("X-Original-URI"))


@gateway_check
def traefik(request: HttpRequest) -> HttpResponse:
    return _check(request, request.headers.get("X-Forwarded-Method"), request.headers.get("X-Forwarded-Uri"))


def raw_target(request: HttpRequest) -> str | None:
    """The request target exactly as the client sent it (percent-encoding kept), which the
    WSGI server must provide: gunicorn's RAW_URI, or REQUEST_URI (uWSGI, mod_wsgi). Django's
    own path is decoded, and would turn %2F into a separator."""
    return request.META.get("RAW_URI") or request.META.get("REQUEST_URI")


@gateway_check
def envoy(request: HttpRequest) -> HttpResponse:
    target = raw_target(request)
    if target is None:
        return _invalid_request(request, "The server running the portal does not pass the raw request URI (RAW_URI).")
    if not target.startswith(ENVOY_PREFIX + "/"):
        return _invalid_request(request, f"The original path must follow {ENVOY_PREFIX}.")
    return _check(request, request.method, target[len(ENVOY_PREFIX) :])
