from django.urls import path

from . import views

app_name = "webhooks"

urlpatterns = [
    path("tenants/<str:code>/webhooks/", views.endpoint_list, name="list"),
    path("tenants/<str:code>/webhooks/new/", views.endpoint_create, name="create"),
    path("tenants/<str:code>/webhooks/<uuid:endpoint_id>/", views.endpoint_detail, name="detail"),
    path("tenants/<str:code>/webhooks/<uuid:endpoint_id>/edit/", views.endpoint_edit, name="edit"),
    path("tenants/<str:code>/webhooks/<uuid:endpoint_id>/secret/", views.endpoint_secret, name="secret"),
    path("tenants/<str:code>/webhooks/<uuid:endpoint_id>/rotate/", views.endpoint_rotate, name="rotate"),
    path("tenants/<str:code>/webhooks/<uuid:endpoint_id>/test/", views.endpoint_test, name="test"),
    path("tenants/<str:code>/webhooks/<uuid:endpoint_id>/delete/", views.endpoint_delete, name="delete"),
]
