from django.urls import path

from . import advisor_views

app_name = "advisor"

urlpatterns = [
    path("tenants/<str:code>/access-advisor/", advisor_views.findings, name="findings"),
    path("tenants/<str:code>/access-advisor/<uuid:key_id>/", advisor_views.key_advice, name="key"),
    path("tenants/<str:code>/access-advisor/<uuid:key_id>/narrow/", advisor_views.narrow, name="narrow"),
]
