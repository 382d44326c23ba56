from django.contrib import admin
from django.urls import include, path

from portal.views import favicon
from tenants.views import home

admin.site.site_header = "API Key Portal administration"
admin.site.site_title = "API Key Portal"

urlpatterns = [
    # The token service first: its endpoints take most of the traffic, and each pattern tried
    # before a match costs every request. No other pattern matches any of its paths.
    path("", include("oauth.urls")),
    path("", home, name="home"),
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("", include("tenants.urls")),
    path("", include("apikeys.urls")),
    path("", include("activity.urls")),
]
