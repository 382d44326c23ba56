from django.urls import path

from . import scim, views

app_name = "sso"

urlpatterns = [
    path("accounts/sso/", views.sso_start, name="start"),
    path("accounts/saml/<str:organization_slug>/acs/finish/", views.saml_finish, name="saml_finish"),
    path("accounts/saml/<str:organization_slug>/sls/", views.saml_no_logout, name="saml_no_logout"),
    path("tenants/<str:code>/sso/", views.sso_settings, name="settings"),
    path("tenants/<str:code>/sso/provider/", views.sso_configure, name="configure"),
    path("tenants/<str:code>/sso/enforcement/", views.sso_enforce, name="enforce"),
    path("tenants/<str:code>/sso/domains/", views.domain_add, name="domain_add"),
    path("tenants/<str:code>/sso/scim-token/", views.scim_token_issue, name="scim_token_issue"),
    path("tenants/<str:code>/sso/scim-token/revoke/", views.scim_token_revoke, name="scim_token_revoke"),
    # SCIM 2.0 (sso/scim.py): the bearer token names the tenant; no trailing slashes (clients
    # append resource paths to the base URL as they are).
    path("scim/v2/Users", scim.users, name="scim_users"),
    path("scim/v2/Users/<str:user_id>", scim.user, name="scim_user"),
    path("scim/v2/ServiceProviderConfig", scim.service_provider_config, name="scim_config"),
    path("tenants/<str:code>/sso/domains/<int:domain_id>/verify/", views.domain_verify, name="domain_verify"),
    path("tenants/<str:code>/sso/domains/<int:domain_id>/remove/", views.domain_remove, name="domain_remove"),
]
