from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from kernel import crypto
from kernel.middleware import CONTENT_SECURITY_POLICY

# Redoc (npm's `redoc`, its standalone bundle vendored in static/vendor/redoc/) styles itself
# with styled-components, which writes <style> elements. The portal's policy allows no inline
# style, so this page alone allows the styles that carry its per-response nonce (Redoc's
# `nonce` option hands it to styled-components); scripts stay 'self' only. The bundle also
# inserts one fixed stylesheet of its own when it loads (perfect-scrollbar's), before any
# nonce is known: that one is allowed by its hash (and the empty element it starts as). A new
# Redoc release that changes it shows as a CSP error in api/tests/test_browser_api_docs.py.
STYLE_SRC = "style-src 'self'"
BUNDLE_STYLE_HASHES = (
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",  # the empty <style> it starts as
    "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",  # perfect-scrollbar's CSS
)


@require_GET
def api_reference(request: HttpRequest) -> HttpResponse:
    """The management API's reference in the portal's layout: Redoc renders the OpenAPI
    document (/api/v1/schema/), themed from the portal's colours by static/js/api-docs.js."""
    nonce = crypto.generate_nonce()
    response = render(request, "api/docs.html", {"schema_url": reverse("api:schema"), "style_nonce": nonce})
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
        STYLE_SRC, " ".join([STYLE_SRC, f"'nonce-{nonce}'", *BUNDLE_STYLE_HASHES])
    )
    return response
