from django.urls import path, re_path

from . import views

app_name = "gateway"

urlpatterns = [
    path("gateway/nginx", views.nginx, name="nginx"),
    path("gateway/traefik", views.traefik, name="traefik"),
    # Envoy appends the original path, whatever it is, to the prefix; the view reads it raw.
    re_path(r"^gateway/envoy/", views.envoy, name="envoy"),
]
