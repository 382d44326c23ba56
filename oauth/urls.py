from django.urls import path

from . import views

app_name = "oauth"

urlpatterns = [
    path("oauth/token", views.token, name="token"),
    path("oauth/introspect", views.introspect, name="introspect"),
    path("oauth/revoke", views.revoke, name="revoke"),
    path("customerlogin/auth/anonymous/login", views.anonymous_login, name="anonymous_login"),
    path("customerlogin/auth/anonymous/refresh", views.anonymous_refresh, name="anonymous_refresh"),
    path(".well-known/oauth-authorization-server", views.metadata, name="metadata"),
    path("tenants/<str:code>/api-keys/<uuid:key_id>/try/", views.try_it, name="try"),
]
