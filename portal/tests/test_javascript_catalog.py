import pytest


@pytest.mark.django_db
def test_the_javascript_catalog_is_public_per_language_and_cacheable(client):
    response = client.get("/jsi18n/de/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert b"django.gettext" in response.content
    assert "max-age=86400" in response["Cache-Control"]
    assert "public" in response["Cache-Control"]


@pytest.mark.django_db
def test_an_unknown_language_is_the_portals_404(client):
    assert client.get("/jsi18n/fr/").status_code == 404


@pytest.mark.django_db
def test_pages_load_the_catalog_of_their_language_and_say_it(client):
    page = client.get("/accounts/login/").content.decode()
    assert '<html lang="en">' in page
    assert 'src="/jsi18n/en/"' in page
