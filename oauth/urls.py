from django.urls import path

from . import views

app_name = "oauth"

urlpatterns = [
    path("tenants/<str:code>/api-keys/<uuid:key_id>/try/", views.try_it, name="try"),
]
