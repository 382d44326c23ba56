from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET


@require_GET
def api_docs(request: HttpRequest) -> HttpResponse:
    """Swagger UI for the OpenAPI document, self-hosted (drf-spectacular-sidecar's static
    files) and started by static/js/api-docs.js, so that the portal's strict CSP holds."""
    return render(request, "api/docs.html", {"schema_url": reverse("api:schema")})
