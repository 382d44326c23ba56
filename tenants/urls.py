from django.urls import path

from . import views

app_name = "tenants"

urlpatterns = [
    path("tenants/", views.tenant_list, name="list"),
    path("tenants/<str:code>/members/", views.member_list, name="members"),
    path("tenants/<str:code>/policy/", views.tenant_policy, name="policy"),
    path("tenants/<str:code>/members/add/", views.member_add, name="member_add"),
    path("tenants/<str:code>/members/<int:member_id>/role/", views.member_role, name="member_role"),
    path("tenants/<str:code>/members/<int:member_id>/remove/", views.member_remove, name="member_remove"),
    path(
        "tenants/<str:code>/invitations/<uuid:invitation_id>/resend/", views.invitation_resend, name="invitation_resend"
    ),
    path(
        "tenants/<str:code>/invitations/<uuid:invitation_id>/cancel/", views.invitation_cancel, name="invitation_cancel"
    ),
    # Public: the token (in the query string, never the path) is the credential.
    path("invitations/accept/", views.invitation_accept, name="invitation_accept"),
]
