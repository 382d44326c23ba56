from django.contrib import admin
from django.urls import include, path

from portal.views import favicon
from tenants.views import home

admin.site.site_header = "API Key Portal administration"
admin.site.site_title = "API Key Portal"

urlpatterns = [
    path("", home, name="home"),
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("", include("tenants.urls")),
    path("", include("apikeys.urls")),
    path("", include("activity.urls")),
    path("", include("oauth.urls")),
]
