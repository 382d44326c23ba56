from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from accounts.views import AdminLoginView
from portal.health import healthz, readyz
from portal.views import favicon
from tenants.views import home

admin.site.site_header = "API Key Portal administration"
admin.site.site_title = "API Key Portal"

urlpatterns = [
    path("", home, name="home"),
    path("favicon.ico", favicon),
    # Before the admin's own URLs: its login goes through the portal's login limits.
    path("admin/login/", AdminLoginView.as_view()),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("", include("tenants.urls")),
    path("", include("apikeys.urls")),
    path("", include("activity.urls")),
    path("", include("oauth.urls")),
]

# A database failure raised in middleware is a 503, like one raised in a view (portal/outages.py).
handler500 = "portal.outages.server_error"

if settings.BENCH_BASELINE:  # bench/token_endpoint.py only: the minimal comparison view
    from bench.baseline import baseline

    urlpatterns.append(path("bench/baseline", baseline))
