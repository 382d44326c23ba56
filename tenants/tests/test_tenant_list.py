import pytest
from django.urls import reverse

from apikeys.models import ApiKey
from tenants.models import Membership, Tenant

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _anyone_adds_tenants(settings):
    # These tests are about the list and its form; who may add tenants (TENANT_CREATORS) and
    # how many: test_tenant_creation_limits.py.
    settings.TENANT_CREATORS = "everyone"


URL = reverse("tenants:list")


def test_it_lists_only_my_tenants_with_their_key_counts(client_for, alice, acme, globex):
    response = client_for(alice).get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert "acme" in body and "Acme Corp" in body
    assert "globex" not in body.lower()
    assert "2 keys" in body


def test_it_counts_keys_instead_of_naming_them_in_a_fixed_number_of_queries(
    client_for, alice, acme, django_assert_max_num_queries
):
    from tenants.services import tenant_create

    client = client_for(alice)
    client.get(URL)
    with django_assert_max_num_queries(20) as few:
        client.get(URL)
    tenant_create(code="second", name="Second Shop", creator=alice)
    for n in range(30):
        ApiKey.objects.create(tenant=acme, kind="custom", name=f"Secret project {n}", client_id=f"{n:032d}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = client.get(URL).content.decode()
    assert "32 keys (30 custom)" in body and "Secret project" not in body and "Emporix API" not in body


def test_adding_a_tenant_makes_me_admin_and_shows_its_keys(client_for, alice):
    client = client_for(alice)
    response = client.post(URL, {"code": "shop1", "name": "Shop One"})
    assert response.status_code == 302
    assert response.url == reverse("apikeys:list", kwargs={"code": "shop1"})
    tenant = Tenant.objects.get(code="shop1")
    assert Membership.objects.get(tenant=tenant, user=alice).role == "admin"
    assert ApiKey.objects.filter(tenant=tenant).count() == 2
    listing = client.get(URL).content.decode()
    assert "shop1" in listing and "2 keys" in listing


def test_a_taken_code_is_a_form_error(client_for, charlie, globex, alice):
    response = client_for(alice).post(URL, {"code": "globex", "name": "Mine"})
    assert response.status_code == 400
    assert "already taken" in response.content.decode()
    assert not Membership.objects.filter(user=alice).exists()


@pytest.mark.parametrize("code", ["ab", "1abc", "Acme", "ac-me", "x" * 17])
def test_a_bad_code_is_a_form_error_that_keeps_what_was_typed(client_for, alice, code):
    response = client_for(alice).post(URL, {"code": code, "name": "Typed name"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "3 to 16 lowercase letters" in body
    assert 'value="Typed name"' in body
    assert not Tenant.objects.exists()


def test_an_empty_post_shows_the_required_errors(client_for, alice):
    response = client_for(alice).post(URL)
    assert response.status_code == 400
    body = response.content.decode()
    assert body.count("This field is required.") == 4  # listed and linked in the error summary, and at each field
    assert body.count(": This field is required.</a></li>") == 2
    assert not Tenant.objects.exists()


def test_home_sends_a_user_with_one_tenant_to_its_keys(client_for, alice, acme):
    assert client_for(alice).get("/").url == reverse("apikeys:list", kwargs={"code": "acme"})


def test_logging_in_with_one_tenant_lands_on_its_keys(client, alice, acme):
    from conftest import PASSWORD

    response = client.post(reverse("login"), {"username": alice.email, "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("apikeys:list", kwargs={"code": "acme"})
    assert response.status_code == 200


def test_home_returns_to_the_last_tenant_opened_else_the_list(client_for, alice, acme):
    from tenants.services import tenant_create

    tenant_create(code="second", name="Second Shop", creator=alice)
    client = client_for(alice)
    assert client.get("/").url == URL  # two tenants, none opened yet
    client.get(reverse("apikeys:list", kwargs={"code": "second"}))
    assert client.get("/").url == reverse("apikeys:list", kwargs={"code": "second"})
    client.get(reverse("apikeys:list", kwargs={"code": "acme"}))
    assert client.get("/").url == reverse("apikeys:list", kwargs={"code": "acme"})


def test_logging_in_with_two_tenants_lands_on_the_tenant_list(client, alice, acme):
    from conftest import PASSWORD
    from tenants.services import tenant_create

    tenant_create(code="second", name="Second Shop", creator=alice)
    response = client.post(reverse("login"), {"username": alice.email, "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == URL


def test_the_switcher_lists_my_tenants(client_for, alice, acme):
    from tenants.services import tenant_create

    tenant_create(code="second", name="Second Shop", creator=alice)
    body = client_for(alice).get(reverse("apikeys:list", kwargs={"code": "acme"})).content.decode()
    assert 'href="/tenants/second/api-keys/"' in body
    assert '<span class="visually-hidden">Switch tenant, current:</span>' in body
