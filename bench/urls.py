"""The floor's only URL. The same path as the portal's token endpoint, so that wrk sends the
same request line to both servers."""

from django.urls import path

from bench.views import token

urlpatterns = [path("oauth/token", token)]
