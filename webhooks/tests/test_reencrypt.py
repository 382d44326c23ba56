"""Webhook signing secrets follow the encryption-key rotation (docs/configuration.md, "Encryption keys and
rotation"): `reencrypt_webhook_secrets` moves them under the newest key, and a secret under a key
that is no longer configured is warning webhooks.W001."""

import pytest
from django.core.management import call_command

from kernel import crypto
from webhooks.checks import check_webhook_secrets_readable
from webhooks.models import Endpoint
from webhooks.services import endpoint_create, endpoint_secret

pytestmark = pytest.mark.django_db
OLD = crypto.generate_encryption_key_entry("old")
NEW = crypto.generate_encryption_key_entry("new")


def test_secrets_move_to_the_newest_key_unchanged(acme, settings, capsys):
    settings.PORTAL_ENCRYPTION_KEYS = OLD
    endpoint, secret = endpoint_create(tenant=acme, url="https://hooks.example.com/h", event_types=["key.created"])
    assert endpoint.secret_key_id == "old"
    settings.PORTAL_ENCRYPTION_KEYS = f"{NEW},{OLD}"
    call_command("reencrypt_webhook_secrets")
    assert "1 webhook secret(s) re-encrypted under key 'new', 0 failed, 0 not under it" in capsys.readouterr().out
    settings.PORTAL_ENCRYPTION_KEYS = NEW
    moved = Endpoint.objects.get(pk=endpoint.pk)
    assert moved.secret_key_id == "new" and endpoint_secret(moved) == secret
    assert check_webhook_secrets_readable(None, databases=["default"]) == []


def test_a_secret_under_a_removed_key_is_a_warning(acme, settings):
    settings.PORTAL_ENCRYPTION_KEYS = OLD
    endpoint_create(tenant=acme, url="https://hooks.example.com/h", event_types=["key.created"])
    settings.PORTAL_ENCRYPTION_KEYS = NEW
    (warning,) = check_webhook_secrets_readable(None, databases=["default"])
    assert warning.id == "webhooks.W001" and "1 webhook endpoint(s)" in warning.msg
    assert "old:" not in warning.msg and OLD.split(":")[1] not in warning.msg


def test_reencrypt_secrets_moves_them_too(acme, settings):
    keys = settings.PORTAL_ENCRYPTION_KEYS  # acme's client secrets are under these
    settings.PORTAL_ENCRYPTION_KEYS = f"{OLD},{keys}"
    endpoint, secret = endpoint_create(tenant=acme, url="https://hooks.example.com/h", event_types=["key.created"])
    settings.PORTAL_ENCRYPTION_KEYS = f"{NEW},{OLD},{keys}"
    call_command("reencrypt_secrets")
    settings.PORTAL_ENCRYPTION_KEYS = NEW
    moved = Endpoint.objects.get(pk=endpoint.pk)
    assert moved.secret_key_id == "new" and endpoint_secret(moved) == secret
