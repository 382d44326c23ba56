"""The portal's URLs plus two views behind accounts.reauth, for test_reauth."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_POST

from accounts.reauth import recent_auth_required
from portal.urls import urlpatterns as portal_urlpatterns

ran: list[str] = []


@recent_auth_required
def sensitive(request: HttpRequest) -> HttpResponse:
    ran.append(request.method)
    return HttpResponse("done")


@require_POST
@recent_auth_required(form_page=lambda request, code: f"/test/{code}/form/")
def form_action(request: HttpRequest, code: str) -> HttpResponse:
    ran.append(code)
    return HttpResponse("done")


urlpatterns = [
    path("test/sensitive/", sensitive),
    path("test/<str:code>/action/", form_action),
    *portal_urlpatterns,
]
