"""The configured encryption keys are checked against the database's canaries and stored
secrets: a wrong or unrelated key fails `check --database default` (which `make run` and
gunicorn's start run) instead of every reveal failing later."""

import base64

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from apikeys.services import secret_plaintext
from kernel import canary
from kernel.models import EncryptionCanary

pytestmark = pytest.mark.django_db

TEST_KEY = "test1:9Nf0cS4aYV9V7lQ4w3bq0wqvEx0nq2Ff8a3sOq0kq7M="
NEW_KEY = "new2:" + base64.b64encode(b"N" * 32).decode()
UNRELATED_KEY = "other:" + base64.b64encode(b"U" * 32).decode()
SAME_ID_WRONG_MATERIAL = "test1:" + base64.b64encode(b"W" * 32).decode()


def _check(capsys) -> str:
    call_command("check", databases=["default"], fail_level="ERROR")
    return capsys.readouterr().err


def test_migrate_left_a_canary_for_the_configured_key():
    assert EncryptionCanary.objects.filter(key_id="test1").exists()


def test_the_right_key_passes(acme_secrets, capsys):
    _check(capsys)


def test_an_unrelated_but_valid_key_fails_the_check(acme_secrets):
    with override_settings(PORTAL_ENCRYPTION_KEYS=UNRELATED_KEY), pytest.raises(SystemCheckError) as failed:
        call_command("check", databases=["default"])
    assert "apikeys.E003" in str(failed.value)
    assert "apikeys.W001" in str(failed.value)  # and the secrets under test1 are named


def test_a_key_with_the_right_id_but_other_material_fails_the_check(acme_secrets):
    with override_settings(PORTAL_ENCRYPTION_KEYS=SAME_ID_WRONG_MATERIAL), pytest.raises(SystemCheckError) as failed:
        call_command("check", databases=["default"])
    assert "apikeys.E004" in str(failed.value) and "apikeys.E003" in str(failed.value)
    assert "W" * 10 not in str(failed.value)  # never the material


def test_a_wrong_key_cannot_write_its_own_canary_over_stored_secrets(acme_secrets):
    EncryptionCanary.objects.all().delete()  # as in a database from before canaries...
    canary._ensured.clear()  # ...seen by a fresh process
    with override_settings(PORTAL_ENCRYPTION_KEYS=SAME_ID_WRONG_MATERIAL):
        canary.canaries_ensure()
        assert not EncryptionCanary.objects.exists()
        assert canary.canaries_check().mismatched == ["test1"]
    canary.canaries_ensure()  # the right key proves itself on a stored secret first
    assert EncryptionCanary.objects.filter(key_id="test1").exists()


def test_the_two_phase_rollout_passes_the_check_at_every_step(acme_secrets, capsys):
    # Phase 1: every instance learns the new key, decrypt-only (after the current one).
    with override_settings(PORTAL_ENCRYPTION_KEYS=f"{TEST_KEY},{NEW_KEY}"):
        canary.canaries_ensure()
        _check(capsys)
    assert EncryptionCanary.objects.filter(key_id="new2").exists()
    # Phase 2: the new key encrypts; the old one still decrypts. Then re-encrypt.
    with override_settings(PORTAL_ENCRYPTION_KEYS=f"{NEW_KEY},{TEST_KEY}"):
        _check(capsys)
        call_command("reencrypt_secrets")
    # Last: the old key goes; nothing is stored under it any more.
    with override_settings(PORTAL_ENCRYPTION_KEYS=NEW_KEY):
        assert "W001" not in _check(capsys)
        key, plaintext = acme_secrets["emporix"]
        assert secret_plaintext(key.secrets.get()) == plaintext


def test_dropping_the_old_key_before_reencrypting_warns_and_names_the_count(acme_secrets):
    with override_settings(PORTAL_ENCRYPTION_KEYS=f"{TEST_KEY},{NEW_KEY}"):
        canary.canaries_ensure()
    with override_settings(PORTAL_ENCRYPTION_KEYS=NEW_KEY):
        report = canary.canaries_check()
    assert report.readable == ["new2"] and not report.blind
    assert report.unconfigured_secrets == {"test1": 2}
