from django.urls import path

from . import activity_views as views

app_name = "activity"

urlpatterns = [
    path("tenants/<str:code>/activity/", views.activity_list, name="list"),
    path("tenants/<str:code>/activity/keys.json", views.activity_keys, name="keys"),
    path("tenants/<str:code>/activity.csv", views.activity_csv, name="csv"),
]
