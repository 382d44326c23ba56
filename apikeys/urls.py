from django.urls import path

from . import views

app_name = "apikeys"

urlpatterns = [
    path("tenants/<str:code>/api-keys/", views.key_list, name="list"),
]
