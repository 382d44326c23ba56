"""A malformed passkey credential, posted by anyone to the public passkey login or by a user to
the second-factor or add-a-passkey page, is refused as an incorrect one: never a server error,
never a login, never a new authenticator."""

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client

from accounts.tests.conftest import log_in, reauthenticate, set_up_totp

pytestmark = pytest.mark.django_db

CREDENTIALS = [
    "garbage",
    "[]",
    "null",
    '{"id": 1}',  # fido2: KeyError 'rawId'
    '{"id": "AAAA"}',
    '{"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": []}',
    # fido2: ValueError decoding the attestation of a new passkey
    '{"id": "AAAA", "rawId": "AAAA", "type": "public-key", '
    '"response": {"clientDataJSON": "AAAA", "attestationObject": "AAAA"}}',
    '{"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {"clientDataJSON": "AAAA", '
    '"authenticatorData": "AAAA", "signature": "AAAA", "userHandle": "MQ"}}',
]


def browser() -> Client:
    return Client(raise_request_exception=False)


@pytest.mark.parametrize("credential", CREDENTIALS)
def test_the_passkey_login_refuses_a_malformed_credential(credential, alice):
    client = browser()
    client.post("/accounts/2fa/webauthn/login/", {"action": "get_options"})  # a ceremony under way
    response = client.post("/accounts/2fa/webauthn/login/", {"credential": credential})
    assert response.status_code == 302 and response.url == "/accounts/login/"
    assert "_auth_user_id" not in client.session
    page = client.get(response.url).content.decode()
    assert 'class="message message-error"' in page  # "Incorrect code.", or the JSON or required error


@pytest.mark.parametrize("credential", CREDENTIALS)
def test_the_second_factor_page_refuses_a_malformed_credential(credential, alice):
    own = browser()
    assert log_in(own, alice.email).status_code == 302
    reauthenticate(own)
    set_up_totp(own)
    client = browser()
    assert log_in(client, alice.email).url == "/accounts/2fa/authenticate/"
    response = client.post("/accounts/2fa/authenticate/", {"credential": credential})
    assert response.status_code == 200 and "_auth_user_id" not in client.session


@pytest.mark.parametrize("passwordless", [{}, {"passwordless": "on"}])
@pytest.mark.parametrize("credential", CREDENTIALS)
def test_adding_a_passkey_refuses_a_malformed_credential(credential, passwordless, alice):
    client = browser()
    assert log_in(client, alice.email).status_code == 302
    reauthenticate(client)
    assert client.get("/accounts/2fa/webauthn/add/").status_code == 200  # a ceremony under way
    response = client.post("/accounts/2fa/webauthn/add/", {"credential": credential, "name": "x", **passwordless})
    assert response.status_code == 200
    assert response.context["form"].errors["credential"]  # "Incorrect code", or required for null and []
    assert not Authenticator.objects.filter(user=alice).exists()
