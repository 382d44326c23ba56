from django.urls import path

from . import views

app_name = "oauth"

urlpatterns = [
    path("oauth/token", views.token, name="token"),
    path("oauth/introspect", views.introspect, name="introspect"),
    path("oauth/revoke", views.revoke, name="revoke"),
    path("customerlogin/auth/anonymous/login", views.anonymous_login, name="anonymous_login"),
    path("customerlogin/auth/anonymous/refresh", views.anonymous_refresh, name="anonymous_refresh"),
    path("oauth/tokeninfo", views.tokeninfo, name="tokeninfo"),
    path(".well-known/oauth-authorization-server", views.metadata, name="metadata"),
    path(".well-known/jwks.json", views.jwks, name="jwks"),
    path("oauth/secret-scanning/verify", views.secret_scanning, name="secret_scanning"),
    path("tenants/<str:code>/api-keys/<uuid:key_id>/try/", views.try_it, name="try"),
    # Clients configured with a trailing slash reach the same endpoints (and JSON, not an HTML 404).
    path("oauth/token/", views.token),
    path("oauth/introspect/", views.introspect),
    path("oauth/revoke/", views.revoke),
    path("oauth/tokeninfo/", views.tokeninfo),
]
