"""The re-authentication page names what it protects, worded on the server from the action
that was refused (kept in the session) or from the page `next` names when that page asks on
its GET; never from the request's text. Any fresh proof counts for the window: a login, a
re-authentication, a password just chosen when accepting an invitation, changed or set."""

import re
import time

import pyotp
import pytest
import time_machine
from allauth.mfa.totp.internal.auth import TOTP
from django.core import mail
from django.urls import reverse

from accounts.tests.conftest import log_in
from apikeys.models import KeyKind
from conftest import PASSWORD
from tenants.models import Invitation

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-new-pass-2026"


def later(seconds: float):
    return time_machine.travel(time.time() + seconds, tick=False)


def heading(response) -> str:
    return re.search(r"<h1[^>]*>(.*?)</h1>", response.content.decode(), re.S).group(1).strip()


def secret_url(key) -> str:
    return reverse("apikeys:secret", kwargs={"code": key.tenant.code, "key_id": key.public_id})


def test_a_refused_reveal_names_the_key(client, dave, acme_secrets):
    key, _ = acme_secrets[KeyKind.EMPORIX]
    client.force_login(dave)  # no proof yet
    answer = client.post(secret_url(key), {"purpose": "reveal"}, HTTP_ACCEPT="application/json")
    assert answer.status_code == 401
    page = client.get(answer.json()["reauthenticate_url"])
    assert page.status_code == 200
    assert heading(page) == "Confirm it is you to reveal the secret of Emporix API"
    assert "<title>Confirm it is you" in page.content.decode()
    assert "Confirm Access" not in page.content.decode()


def test_a_refused_copy_says_copy_and_the_page_the_script_returns_to_matches(client, dave, acme_secrets):
    key, _ = acme_secrets[KeyKind.STOREFRONT]
    client.force_login(dave)
    client.post(secret_url(key), {"purpose": "copy"}, HTTP_ACCEPT="application/json")
    # static/js/secret.js sends the user there with next= the page they are on, fragment included.
    page = client.get("/accounts/reauthenticate/", {"next": f"/tenants/acme/api-keys/?q=store#key-{key.public_id}"})
    assert heading(page) == "Confirm it is you to copy the secret of Storefront API"


def test_a_refused_form_post_names_its_action(client, alice, acme_secrets):
    key, _ = acme_secrets[KeyKind.EMPORIX]
    client.force_login(alice)
    renew = reverse("apikeys:renew", kwargs={"code": "acme", "key_id": key.public_id})
    response = client.post(renew, {"grace": "24h"})
    assert response.status_code == 302
    assert heading(client.get(response.url)) == "Confirm it is you to renew the secret of Emporix API"


def test_a_form_page_that_asks_on_its_get_is_named_from_next_alone(client, alice, acme):
    client.force_login(alice)
    response = client.get(reverse("apikeys:create", kwargs={"code": "acme"}))
    assert response.status_code == 302
    assert heading(client.get(response.url)) == "Confirm it is you to create a custom API key in Acme Corp"
    # The same page opened from a link, with nothing kept: still named from its own next.
    client.session.flush()
    client.force_login(alice)
    page = client.get("/accounts/reauthenticate/", {"next": "/tenants/acme/api-keys/new/"})
    assert heading(page) == "Confirm it is you to create a custom API key in Acme Corp"


def test_disable_enable_and_bulk_actions_are_named(client, alice, acme_secrets):
    key, _ = acme_secrets[KeyKind.EMPORIX]
    client.force_login(alice)
    client.session.flush()
    client.force_login(alice)  # a login without a proof: force_login records none
    for name, words in (("disable", "disable Emporix API"), ("enable", "enable Emporix API")):
        url = reverse(f"apikeys:{name}", kwargs={"code": "acme", "key_id": key.public_id})
        response = client.post(url, {"confirm": "disable"})
        assert response.status_code == 302
        assert heading(client.get(response.url)) == f"Confirm it is you to {words}"
    bulk = reverse("apikeys:bulk", kwargs={"code": "acme"})
    response = client.get(bulk, {"action": "disable", "scope": "matching"})
    assert response.status_code == 302
    assert heading(client.get(response.url)) == "Confirm it is you to change several keys of Acme Corp at once"


@pytest.mark.parametrize(
    "next_url",
    [
        "/tenants/acme/api-keys/",  # a page that does not ask: nothing kept for it
        "/tenants/acme/api-keys/?purpose=<b>delete every key</b>",
        "/tenants/globex/api-keys/new/",  # a tenant alice does not belong to
        "https://evil.example/tenants/acme/api-keys/new/",
        "/nowhere/",
        "",
    ],
)
def test_anything_else_reads_continue_and_nothing_of_the_request_is_shown(client, alice, acme, globex, next_url):
    client.force_login(alice)
    page = client.get("/accounts/reauthenticate/", {"next": next_url})
    text = re.sub(r"<[^>]*>", " ", page.content.decode())  # what is shown: no tags, no attributes
    assert heading(page) == "Confirm it is you to continue"
    assert "delete every key" not in text and "Globex" not in text


def test_a_post_only_action_is_not_named_from_a_crafted_next(client, alice, acme_secrets):
    """The renew page's GET is free: a link naming it says nothing of renewing."""
    key, _ = acme_secrets[KeyKind.EMPORIX]
    client.force_login(alice)
    renew = reverse("apikeys:renew", kwargs={"code": "acme", "key_id": key.public_id})
    assert heading(client.get("/accounts/reauthenticate/", {"next": renew})) == "Confirm it is you to continue"


def test_an_action_kept_for_another_page_is_not_used(client, dave, acme_secrets):
    key, _ = acme_secrets[KeyKind.EMPORIX]
    client.force_login(dave)
    client.post(secret_url(key), HTTP_ACCEPT="application/json")
    page = client.get("/accounts/reauthenticate/", {"next": "/tenants/acme/members/"})
    assert heading(page) == "Confirm it is you to continue"


def test_a_kept_action_expires(client, dave, acme_secrets):
    key, _ = acme_secrets[KeyKind.EMPORIX]
    client.force_login(dave)
    url = client.post(secret_url(key), HTTP_ACCEPT="application/json").json()["reauthenticate_url"]
    with later(901):
        assert heading(client.get(url)) == "Confirm it is you to continue"


def test_a_member_action_names_the_member(client, alice, bob, acme):
    client.force_login(alice)
    member = acme.memberships.get(user=bob)
    remove = reverse("tenants:member_remove", kwargs={"code": "acme", "member_id": member.pk})
    response = client.post(remove)
    assert heading(client.get(response.url)) == "Confirm it is you to remove bob@example.com from Acme Corp"


def test_the_other_ways_to_confirm_keep_next_and_the_wording(client, alice, acme_secrets):
    key, _ = acme_secrets[KeyKind.EMPORIX]
    secret = pyotp.random_base32()
    TOTP.activate(alice, secret)
    client.force_login(alice)
    url = client.post(secret_url(key), HTTP_ACCEPT="application/json").json()["reauthenticate_url"]
    page = client.get(url).content.decode()
    link = re.search(r'<a class="button wide" href="([^"]+)">Use your authenticator app or a recovery code</a>', page)
    assert link, page
    by_app = client.get(link.group(1).replace("&amp;", "&"))
    assert heading(by_app) == "Confirm it is you to reveal the secret of Emporix API"
    assert 'name="code"' in by_app.content.decode()
    back = client.post(link.group(1).replace("&amp;", "&"), {"code": pyotp.TOTP(secret).now()})
    assert back.status_code == 302 and back.url == "/tenants/acme/api-keys/#key-" + str(key.public_id)
    assert client.post(secret_url(key), HTTP_ACCEPT="application/json").status_code == 200


def test_cancel_goes_back_to_next_on_this_site_only(client, alice):
    client.force_login(alice)
    body = client.get("/accounts/reauthenticate/", {"next": "/tenants/acme/api-keys/"}).content.decode()
    assert '<a href="/tenants/acme/api-keys/">Cancel</a>' in body
    body = client.get("/accounts/reauthenticate/", {"next": "https://evil.example/"}).content.decode()
    assert 'evil.example/">Cancel' not in body and '<a href="/">Cancel</a>' in body


# --- Fresh proofs ----------------------------------------------------------------------------


def test_an_invited_developer_reveals_at_once_with_the_password_just_chosen(client, client_for, alice, acme_secrets):
    key, plaintext = acme_secrets[KeyKind.EMPORIX]
    client_for(alice).post(
        reverse("tenants:member_add", kwargs={"code": "acme"}), {"email": "new@example.com", "role": "developer"}
    )
    token = re.search(r"token=(akpi_[\w-]+)", mail.outbox[-1].body).group(1)
    client.logout()
    accepted = client.post(
        reverse("tenants:invitation_accept"),
        {"token": token, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert accepted.status_code == 302 and not Invitation.objects.exists()
    answer = client.post(secret_url(key), {"purpose": "reveal"}, HTTP_ACCEPT="application/json")
    assert answer.status_code == 200 and answer.json()["secret"] == plaintext
    with later(601):  # the same window as any login
        assert client.post(secret_url(key), HTTP_ACCEPT="application/json").status_code == 401


def test_a_changed_password_counts_as_a_fresh_proof(client, alice, acme_secrets):
    key, _ = acme_secrets[KeyKind.EMPORIX]
    client.force_login(alice)  # no proof
    assert client.post(secret_url(key), HTTP_ACCEPT="application/json").status_code == 401
    changed = client.post(
        reverse("password_change"),
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert changed.status_code == 302
    assert client.post(secret_url(key), HTTP_ACCEPT="application/json").status_code == 200


def test_a_proof_belongs_to_its_user(client, alice, dave, acme_secrets):
    """The portal's own record of a chosen password names the user: another user's login in
    the same browser does not inherit it."""
    key, _ = acme_secrets[KeyKind.EMPORIX]
    assert log_in(client, alice.email).status_code == 302
    session = client.session
    session["accounts_proof"] = {"user": str(alice.pk), "at": time.time(), "method": "password"}
    session.save()
    client.force_login(dave)  # keeps the session's data only for the same user
    assert client.post(secret_url(key), HTTP_ACCEPT="application/json").status_code == 401
