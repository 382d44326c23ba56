"""The public base URL (the portal's origin) and the operator's API base URL: one definition
each for every page and endpoint that shows them."""

from django.test import RequestFactory

from kernel.net import api_base_url, public_base_url


def test_it_is_the_portals_own_origin_even_when_api_base_url_names_the_operators_api(settings):
    settings.API_BASE_URL = "https://api.example.com"
    settings.ALLOWED_HOSTS = ["portal.example.com"]
    request = RequestFactory().get("/anything/", HTTP_HOST="portal.example.com", secure=True)
    assert public_base_url(request) == "https://portal.example.com"
    assert api_base_url() == "https://api.example.com"


def test_it_is_the_portals_own_origin_without_a_trailing_slash_otherwise(settings):
    settings.API_BASE_URL = ""
    settings.ALLOWED_HOSTS = ["portal.example.com"]
    request = RequestFactory().get("/tenants/acme/", HTTP_HOST="portal.example.com", secure=True)
    assert public_base_url(request) == "https://portal.example.com"
    assert api_base_url() == ""
