from django.contrib.auth.decorators import login_not_required
from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularJSONAPIView
from rest_framework.permissions import AllowAny

from . import advice, key_usage, sso, views
from .docs import api_reference

app_name = "api"


def public(view):
    """The API authenticates every call itself (a Bearer token, never a session)."""
    return login_not_required(csrf_exempt(view))


schema = SpectacularJSONAPIView.as_view(authentication_classes=[], permission_classes=[AllowAny])

urlpatterns = [
    path("api/v1/schema/", public(schema), name="schema"),
    # The reference is a portal page (its layout, the signed-in menu); the old docs URL leads there.
    path("api/v1/docs/", public(RedirectView.as_view(pattern_name="api:reference")), name="docs"),
    path("api-reference/", login_not_required(api_reference), name="reference"),
    path("api/v1/keys/", public(views.KeyList.as_view()), name="keys"),
    path("api/v1/keys/<uuid:key_id>/", public(views.KeyDetail.as_view()), name="key"),
    path("api/v1/keys/<uuid:key_id>/renew/", public(views.KeyRenew.as_view()), name="key_renew"),
    path(
        "api/v1/keys/<uuid:key_id>/retire-old-secret/",
        public(views.KeyRetireOldSecret.as_view()),
        name="key_retire_old_secret",
    ),
    path("api/v1/keys/<uuid:key_id>/reveal/", public(views.KeyReveal.as_view()), name="key_reveal"),
    path("api/v1/keys/<uuid:key_id>/disable/", public(views.KeyDisable.as_view()), name="key_disable"),
    path("api/v1/keys/<uuid:key_id>/enable/", public(views.KeyEnable.as_view()), name="key_enable"),
    path("api/v1/keys/<uuid:key_id>/usage/", public(key_usage.KeyUsage.as_view()), name="key_usage"),
    # As issue 21 spells it; the same answer, documented once (under the slash, as every path).
    path("api/v1/keys/<uuid:key_id>/usage", public(key_usage.KeyUsageUnslashed.as_view())),
    path(
        "api/v1/keys/<uuid:key_id>/access-advice/",
        public(advice.KeyAccessAdvice.as_view()),
        name="key_access_advice",
    ),
    path("api/v1/scopes/", public(views.ScopeCatalogue.as_view()), name="scopes"),
    path("api/v1/members/", public(views.MemberList.as_view()), name="members"),
    path("api/v1/members/<str:email>/", public(views.MemberDetail.as_view()), name="member"),
    path("api/v1/invitations/", public(views.InvitationList.as_view()), name="invitations"),
    path("api/v1/invitations/<uuid:invitation_id>/", public(views.InvitationDetail.as_view()), name="invitation"),
    path("api/v1/activity/", public(views.ActivityList.as_view()), name="activity"),
    path("api/v1/sso/", public(sso.SsoDetail.as_view()), name="sso"),
    path("api/v1/tenants/", public(views.TenantList.as_view()), name="tenants"),
    path("api/v1/tenants/<str:code>/", public(views.TenantDetail.as_view()), name="tenant"),
    path("api/v1/tenants/<str:code>/deactivate/", public(views.TenantDeactivate.as_view()), name="tenant_deactivate"),
    # Anything else under /api/ is a problem+json 404, never the portal's HTML page.
    re_path(r"^api/", public(views.not_found)),
]
