"""The public base URL: one definition for every page that shows where the API is."""

from django.test import RequestFactory

from portal.net import public_base_url


def test_it_is_api_base_url_when_set(settings):
    settings.API_BASE_URL = "https://api.example.com"
    assert public_base_url(RequestFactory().get("/anything/")) == "https://api.example.com"


def test_it_is_the_portals_own_origin_without_a_trailing_slash_otherwise(settings):
    settings.API_BASE_URL = ""
    settings.ALLOWED_HOSTS = ["portal.example.com"]
    request = RequestFactory().get("/tenants/acme/", HTTP_HOST="portal.example.com", secure=True)
    assert public_base_url(request) == "https://portal.example.com"
