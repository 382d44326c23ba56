from django.urls import path

from . import views

app_name = "usage"

urlpatterns = [
    path("tenants/<str:code>/usage/", views.tenant_usage, name="overview"),
    path("tenants/<str:code>/usage.csv", views.tenant_export, name="export"),
    path("tenants/<str:code>/api-keys/<uuid:key_id>/usage/", views.key_usage, name="key"),
    path("tenants/<str:code>/api-keys/<uuid:key_id>/usage.csv", views.key_export, name="key_export"),
]
