from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.middleware.csrf import REASON_NO_CSRF_COOKIE
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy
from django.views.i18n import JavaScriptCatalog

from kernel.dates import wait_text
from kernel.http import wants_json


@login_not_required
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages without an icon link (the Django admin's)."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


def _back_url(request: HttpRequest) -> str:
    """Where "Back" goes: the page the request came from if it is one of the portal's own
    (never another site's), else the front page."""
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return reverse("home")


PAGE_EXPIRED = gettext_lazy(
    "This page has expired, for example a tab left open while you logged out and in again "
    "elsewhere. Nothing was changed. Reload the page and try again."
)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a form posted with a token that no longer matches, typically from a
    tab left open across a logout and login elsewhere. The portal's own 403 page, with a way
    back and the advice to reload; never Django's debug page, whatever DEBUG says, and never
    the reason's details beyond whether the cookie was missing."""
    if wants_json(request):  # a page's script (fetch): the same words, for it to show
        response = JsonResponse({"error": "page_expired", "message": str(PAGE_EXPIRED)}, status=403)
        response["Cache-Control"] = "no-store"
        return response
    context = {
        "back_url": _back_url(request),
        "home_url": reverse("home"),
        "cookies_missing": reason == REASON_NO_CSRF_COOKIE,
    }
    response = render(request, "403_csrf.html", context, status=403)
    response["Cache-Control"] = "no-store"
    return response


def rate_limited(request: HttpRequest, wait: int, message: str = "") -> HttpResponse:
    """The portal's 429 page for a page request past a rate limit: `message`, when to try
    again, a way back; with Retry-After."""
    context = {
        "message": message,
        "retry_after": wait,
        "retry_after_text": wait_text(wait),
        "back_url": _back_url(request),
    }
    response = render(request, "429.html", context, status=429)
    response["Retry-After"] = str(wait)
    response["Cache-Control"] = "no-store"
    return response


@login_not_required
def javascript_catalog(request: HttpRequest, language: str) -> HttpResponse:
    """The strings static/js shows, in `language` (docs/i18n.md): Django's JavaScript catalog
    (window.gettext, ngettext, interpolate), at a URL per language so that browsers may keep it
    for a day whatever the visitor's Accept-Language. An unknown language is the portal's 404."""
    if language not in dict(settings.LANGUAGES):
        raise Http404
    with translation.override(language):
        response = JavaScriptCatalog.as_view(domain="djangojs")(request)
    patch_cache_control(response, public=True, max_age=86400)
    return response
