"""A signing key's private half is stored only encrypted and reaches no log, command output,
admin page, JWK Set or error page."""

import base64
import json
import logging
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from kernel.crypto import decrypt as at_rest_decrypt
from oauth.models import SigningKey

from .conftest import basic

NEW_KEY = "new2:" + base64.b64encode(b"N" * 32).decode()


@pytest.fixture
def operator(django_user_model):
    return django_user_model.objects.create_superuser(email="ops@example.com", password="x-long-password")


def private_parts() -> list[str]:
    """The "d" of every stored key, and its raw ciphertext, as text that must appear nowhere."""
    found = []
    for key in SigningKey.objects.all():
        private = json.loads(at_rest_decrypt(key.ciphertext, key_id=key.encryption_key_id, binding=key.binding))
        assert private["x"] == key.public_jwk["x"]
        found += [private["d"], bytes(key.ciphertext).hex()]
    return found


def test_the_private_key_is_only_stored_encrypted(jwt_custom, issue):
    issue(*jwt_custom)
    key = SigningKey.objects.get()
    private = json.loads(at_rest_decrypt(key.ciphertext, key_id=key.encryption_key_id, binding=key.binding))
    assert private["d"].encode() not in bytes(key.ciphertext)
    assert "d" not in key.public_jwk
    assert private["d"] not in str(key) + repr(key)


def test_no_log_or_command_output_holds_it(jwt_custom, issue, post_token, client, caplog):
    caplog.set_level(logging.DEBUG)
    out = StringIO()
    call_command("rotate_signing_key", stdout=out, stderr=out)
    call_command("rotate_signing_key", "--now", stdout=out, stderr=out)
    key, secret = jwt_custom
    token = issue(key, secret)
    post_token({"token": token}, auth=basic(key.client_id, secret), url="/oauth/introspect")
    post_token({"token": token}, auth=basic(key.client_id, secret), url="/oauth/revoke")
    jwks = client.get("/.well-known/jwks.json").content.decode()
    logged = caplog.text + out.getvalue()
    for part in private_parts():
        assert part not in logged
        assert part not in jwks
    assert '"d"' not in jwks


def test_the_admin_shows_kid_and_state_but_not_the_private_key(client, operator, jwt_custom, issue):
    issue(*jwt_custom)
    call_command("rotate_signing_key", stdout=StringIO())
    client.force_login(operator)
    key = SigningKey.objects.first()
    pages = [reverse("admin:oauth_signingkey_changelist"), reverse("admin:oauth_signingkey_change", args=[key.pk])]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        body = response.content.decode()
        assert key.kid in body
        assert "ciphertext" not in body.lower()
        for part in private_parts():
            assert part not in body
    assert client.post(pages[1], {"state": "active"}).status_code == 403  # read-only


def test_reencrypt_secrets_moves_the_signing_keys_to_the_newest_encryption_key(jwt_custom, issue, settings):
    old_entry = settings.PORTAL_ENCRYPTION_KEYS
    call_command("rotate_signing_key", stdout=StringIO())
    before = set(private_parts()[::2])
    settings.PORTAL_ENCRYPTION_KEYS = f"{NEW_KEY},{old_entry}"
    out = StringIO()
    call_command("reencrypt_secrets", stdout=out)
    assert "2 signing key(s) re-encrypted, 0 failed" in out.getvalue()
    assert set(SigningKey.objects.values_list("encryption_key_id", flat=True)) == {"new2"}
    # The new key alone now opens them, and tokens are signed as before.
    settings.PORTAL_ENCRYPTION_KEYS = NEW_KEY
    assert set(private_parts()[::2]) == before
    assert issue(*jwt_custom).startswith("eyJ")
