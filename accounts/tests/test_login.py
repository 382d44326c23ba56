import pytest
from django.core import mail
from django.urls import reverse

from conftest import PASSWORD
from kernel import background
from kernel.dates import wait_text

pytestmark = pytest.mark.django_db

PUBLIC = [
    "/accounts/login/",
    "/accounts/password/reset/",
    "/accounts/password/reset/done/",
    "/accounts/password/reset/complete/",
]
PRIVATE = ["/", "/tenants/", "/tenants/acme/api-keys/", "/accounts/password/change/"]


@pytest.mark.parametrize("url", PRIVATE)
def test_every_other_page_requires_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/?next=")


@pytest.mark.parametrize("url", PUBLIC)
def test_the_account_pages_are_public(client, url):
    assert client.get(url).status_code == 200


def test_logging_in_with_email_and_password_reaches_the_tenant_list(client, alice):
    response = client.post("/accounts/login/", {"username": "ALICE@example.com", "password": PASSWORD}, follow=True)
    assert response.status_code == 200
    assert response.request["PATH_INFO"] == reverse("tenants:list")


def test_a_wrong_password_is_a_form_error(client, alice):
    response = client.post("/accounts/login/", {"username": "alice@example.com", "password": "nope"})
    assert response.status_code == 200
    assert "correct" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logout_is_a_post(client_for, alice):
    client = client_for(alice)
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/tenants/").status_code == 302


def test_password_reset_sends_a_link_that_sets_a_new_password(client, alice):
    client.post("/accounts/password/reset/", {"email": "alice@example.com"})
    assert background.drain()  # the mail is sent after the response
    assert len(mail.outbox) == 1
    link = next(line for line in mail.outbox[0].body.splitlines() if "/password/reset/" in line)
    path = link.split("testserver", 1)[1]
    response = client.get(path, follow=True)
    form_url = response.request["PATH_INFO"]
    client.post(form_url, {"password1": "a-new-long-passphrase", "password2": "a-new-long-passphrase"})
    alice.refresh_from_db()
    assert alice.check_password("a-new-long-passphrase")


def test_password_change(client_for, alice):
    client = client_for(alice)
    response = client.post(
        "/accounts/password/change/",
        {
            "oldpassword": PASSWORD,
            "password1": "another-long-passphrase",
            "password2": "another-long-passphrase",
        },
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("another-long-passphrase")


def test_pages_carry_a_strict_content_security_policy(client):
    csp = client.get("/accounts/login/")["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def login(client, email, password, address="10.0.0.1"):
    return client.post("/accounts/login/", {"username": email, "password": password}, REMOTE_ADDR=address)


def test_failed_logins_are_limited_per_email_and_address_and_the_window_frees_them(
    client, alice, settings, monkeypatch
):
    from accounts import throttle

    settings.LOGIN_FAILURE_LIMIT_PER_EMAIL = 3
    for _ in range(3):
        assert login(client, "alice@example.com", "wrong").status_code == 200
    # Locked for this window from this address, even with the right password.
    response = login(client, "ALICE@example.com", PASSWORD)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many failed logins" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # The next window lets the right password in again.
    later = throttle.time.time() + settings.LOGIN_FAILURE_WINDOW
    monkeypatch.setattr(throttle.time, "time", lambda: later)
    response = login(client, "alice@example.com", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_the_lockout_is_its_own_notice_with_the_wait_in_words(client, alice, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_EMAIL = 1
    login(client, "alice@example.com", "wrong")
    response = login(client, "alice@example.com", PASSWORD)
    assert response.status_code == 429
    body = response.content.decode()
    notice = body[body.index('id="login-locked"') :]
    notice = notice[: notice.index("</div>")]
    wait = wait_text(int(response["Retry-After"]))
    assert wait.endswith(" minutes") or wait.endswith(" seconds") or wait in ("1 minute", "1 second")
    assert "Too many failed logins" in notice and f"Try again in {wait}." in notice
    # Not a form error: nothing typed is wrong; the e-mail stays in the form.
    assert "error-summary" not in body and "Please correct" not in body
    assert "(s)" not in body
    assert 'value="alice@example.com"' in body


def test_the_right_password_from_a_fresh_address_is_accepted_after_the_email_was_hammered(client, alice, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_EMAIL = 3
    statuses = [login(client, "alice@example.com", "wrong", address="203.0.113.66").status_code for _ in range(20)]
    assert statuses == [200] * 3 + [429] * 17
    other = client.__class__()
    response = login(other, "alice@example.com", PASSWORD, address="10.0.0.2")
    assert response.status_code == 302
    assert other.session["_auth_user_id"] == str(alice.pk)


def test_failed_logins_are_limited_per_address(client, alice, bob, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 2
    login(client, "nobody1@example.com", "x")
    login(client, "nobody2@example.com", "x")
    assert login(client, "bob@example.com", PASSWORD).status_code == 429
    assert login(client.__class__(), "bob@example.com", PASSWORD, address="10.9.8.7").status_code == 302


def test_a_refused_login_checks_no_password(client, alice, settings):
    from django.contrib.auth.signals import user_logged_in, user_login_failed

    settings.LOGIN_FAILURE_LIMIT_PER_EMAIL = 1
    checked = []

    def count(**kwargs):
        checked.append(kwargs)

    user_login_failed.connect(count, dispatch_uid="test-count-failed")
    user_logged_in.connect(count, dispatch_uid="test-count-in")
    try:
        login(client, "alice@example.com", "wrong")
        assert len(checked) == 1
        assert login(client, "alice@example.com", "wrong").status_code == 429
        assert login(client, "alice@example.com", PASSWORD).status_code == 429
        assert len(checked) == 1
    finally:
        user_login_failed.disconnect(dispatch_uid="test-count-failed")
        user_logged_in.disconnect(dispatch_uid="test-count-in")


def test_successful_logins_do_not_count(client, alice, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_EMAIL = 2
    settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 2
    for _ in range(5):
        assert login(client.__class__(), "alice@example.com", PASSWORD).status_code == 302
    assert login(client, "alice@example.com", "wrong").status_code == 200
