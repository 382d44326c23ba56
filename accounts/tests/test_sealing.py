"""Second factors' secrets at rest: the authenticator app's key and the recovery codes' seed
are sealed with the portal's encryption keys (accounts.sealing), rows stored in the clear
before are sealed by migration 0004, `reencrypt_secrets` moves them to a new key, and a
second factor whose key is gone is refused (logged, and counted by a check), never a 500."""

import importlib
import json

import pytest
from allauth.mfa.models import Authenticator
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.test import Client

from accounts import sealing
from accounts.checks import check_second_factors_readable
from accounts.tests.conftest import log_in, reauthenticate, set_up_totp, totp_code
from kernel import crypto

pytestmark = pytest.mark.django_db

AUTHENTICATE = "/accounts/2fa/authenticate/"


def stored(user) -> dict:
    """Each authenticator's data as the database holds it (the JSON column's text)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT type, data FROM {Authenticator._meta.db_table} WHERE user_id = %s",
            [user.pk],
        )
        return {kind: data if isinstance(data, dict) else json.loads(data) for kind, data in cursor.fetchall()}


def second_factor(user, code: str):
    client = Client(raise_request_exception=False)
    assert log_in(client, user.email).url == AUTHENTICATE
    return client, client.post(AUTHENTICATE, {"code": code})


@pytest.fixture
def alice_totp(alice_client, alice):
    reauthenticate(alice_client)
    secret, codes = set_up_totp(alice_client)
    return secret, codes


def test_the_app_key_and_the_recovery_seed_are_stored_sealed(alice_totp, alice):
    secret, codes = alice_totp
    rows = stored(alice)
    assert rows["totp"]["secret"].startswith("akpm1:test1:")
    assert secret not in json.dumps(rows)
    assert rows["recovery_codes"]["seed"].startswith("akpm1:test1:")
    assert not any(code in json.dumps(rows) for code in codes)
    # and they still work
    assert second_factor(alice, totp_code(secret))[1].status_code == 302
    assert second_factor(alice, codes[0])[1].status_code == 302


def test_a_sealed_value_opens_only_as_a_second_factor_secret(alice_totp, alice):
    sealed = stored(alice)["totp"]["secret"]
    key_id, _, encoded = sealed.removeprefix("akpm1:").partition(":")
    import base64

    with pytest.raises(crypto.DecryptionError):  # e.g. copied onto an API secret's row
        crypto.decrypt(base64.urlsafe_b64decode(encoded), key_id=key_id, binding="secret:1")
    assert sealing.unseal(sealed) == alice_totp[0]


def test_the_migration_seals_rows_stored_in_the_clear(alice, bob):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
    from allauth.mfa.totp.internal.auth import generate_totp_secret

    secret, seed = generate_totp_secret(), RecoveryCodes.generate_seed()
    Authenticator.objects.create(user=alice, type="totp", data={"secret": secret})
    Authenticator.objects.create(user=alice, type="recovery_codes", data={"seed": seed, "used_mask": 0})
    Authenticator.objects.create(user=bob, type="webauthn", data={"name": "Phone", "credential": {}})
    assert stored(alice)["totp"]["secret"] == secret
    assert [w.id for w in check_second_factors_readable(None, databases=["default"])] == ["accounts.W002"]

    importlib.import_module("accounts.migrations.0004_seal_second_factors").seal(apps, None)

    rows = stored(alice)
    assert sealing.is_sealed(rows["totp"]["secret"]) and sealing.unseal(rows["totp"]["secret"]) == secret
    assert sealing.is_sealed(rows["recovery_codes"]["seed"]) and sealing.unseal(rows["recovery_codes"]["seed"]) == seed
    assert stored(bob)["webauthn"] == {"name": "Phone", "credential": {}}  # nothing secret there
    assert check_second_factors_readable(None, databases=["default"]) == []
    assert second_factor(alice, totp_code(secret))[1].status_code == 302


def test_reencrypt_secrets_moves_them_to_the_new_key(alice_totp, alice, settings):
    secret, _ = alice_totp
    new = crypto.generate_encryption_key_entry("test2")
    settings.PORTAL_ENCRYPTION_KEYS = f"{new},{settings.PORTAL_ENCRYPTION_KEYS}"
    call_command("reencrypt_secrets")
    rows = stored(alice)
    assert rows["totp"]["secret"].startswith("akpm1:test2:") and rows["recovery_codes"]["seed"].startswith(
        "akpm1:test2:"
    )
    settings.PORTAL_ENCRYPTION_KEYS = new  # the old key removed
    assert second_factor(alice, totp_code(secret))[1].status_code == 302


def test_a_second_factor_under_a_key_no_longer_configured_is_refused_not_a_500(alice_totp, alice, settings, caplog):
    secret, codes = alice_totp
    settings.PORTAL_ENCRYPTION_KEYS = crypto.generate_encryption_key_entry("other")
    (warning,) = check_second_factors_readable(None, databases=["default"])
    assert warning.id == "accounts.W001" and "2 second factor(s)" in warning.msg
    client, response = second_factor(alice, totp_code(secret))
    assert response.status_code == 200 and "Incorrect code" in response.content.decode()
    assert client.post(AUTHENTICATE, {"code": codes[0]}).status_code == 200
    assert "_auth_user_id" not in client.session
    assert "cannot be read" in caplog.text and secret not in caplog.text
