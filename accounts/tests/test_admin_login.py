"""/admin/login/ is the Django admin's login form, through the portal's login limits: per
(e-mail, client address) and per client address, shared with the portal's login."""

import pytest

pytestmark = pytest.mark.django_db

PASSWORD = "x-long-operator-password"
ADMIN_LOGIN = "/admin/login/"


@pytest.fixture
def operator(django_user_model):
    return django_user_model.objects.create_superuser(email="ops@example.com", password=PASSWORD)


def admin_login(client, password, address="10.0.0.1", email="ops@example.com"):
    return client.post(ADMIN_LOGIN, {"username": email, "password": password}, REMOTE_ADDR=address)


def test_the_admin_login_form_logs_an_operator_in(client, operator):
    page = client.get(ADMIN_LOGIN)
    assert page.status_code == 200
    assert "admin/login.html" in [t.name for t in page.templates]
    response = admin_login(client, PASSWORD)
    assert response.status_code == 302 and response.url == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert client.get(ADMIN_LOGIN).url == "/admin/"


def test_a_member_who_is_not_staff_is_refused(client, alice):
    from conftest import PASSWORD as MEMBER_PASSWORD

    response = admin_login(client, MEMBER_PASSWORD, email="alice@example.com")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_failed_admin_logins_are_limited(client, operator, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_EMAIL = 3
    assert [admin_login(client, "wrong").status_code for _ in range(3)] == [200, 200, 200]
    refused = admin_login(client, PASSWORD)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= settings.LOGIN_FAILURE_WINDOW
    assert "Too many failed logins" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    # From a fresh address the right password gets in.
    other = client.__class__()
    assert admin_login(other, PASSWORD, address="10.0.0.2").status_code == 302


def test_the_portal_and_admin_logins_share_their_counters(client, operator, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 2
    for email in ("a@example.com", "b@example.com"):
        client.post("/accounts/login/", {"username": email, "password": "x"}, REMOTE_ADDR="10.0.0.1")
    assert admin_login(client, PASSWORD).status_code == 429
