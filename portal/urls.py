from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from accounts.views import AdminLoginView
from kernel.health import healthz, readyz
from kernel.metrics import metrics
from kernel.views import favicon, javascript_catalog
from tenants.views import home

admin.site.site_header = "API Key Portal administration"
admin.site.site_title = "API Key Portal"

urlpatterns = [
    # The token service first: its endpoints take most of the traffic, and each pattern tried
    # before a match costs every request. No other pattern matches any of its paths.
    path("", include("oauth.urls")),
    # The gateway check: proxies ask it on every API request.
    path("", include("gateway.urls")),
    # The management API (Bearer tokens, no session).
    path("", include("api.urls")),
    path("", home, name="home"),
    path("favicon.ico", favicon),
    path("jsi18n/<str:language>/", javascript_catalog, name="javascript-catalog"),
    # The language switch of the signed-out pages (templates/_language_switch.html): a cookie.
    path("language/", login_not_required(set_language), name="set_language"),
    # Before the admin's own URLs: its login goes through the portal's login limits.
    path("admin/login/", AdminLoginView.as_view()),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    # allauth's OpenID Connect sign-in and callback, one app per tenant (sso/), the SSO pages,
    # then allauth's SAML views (sso.urls wraps the end of its assertion consumer service).
    path("accounts/", include("allauth.socialaccount.providers.openid_connect.urls")),
    path("", include("sso.urls")),
    path("accounts/", include("allauth.socialaccount.providers.saml.urls")),
    path("", include("tenants.urls")),
    path("", include("apikeys.urls")),
    path("", include("usage.urls")),
    path("", include("usage.advisor_urls")),
    path("", include("tenants.activity_urls")),
    path("", include("webhooks.urls")),
    path("", include("notifications.urls")),
]

# A database failure raised in middleware is a 503, like one raised in a view (kernel/outages.py).
handler500 = "kernel.outages.server_error"
