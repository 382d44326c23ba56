import base64

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from apikeys.models import ApiKey, ApiSecret
from apikeys.services import SecretUnreadable, key_create, secret_plaintext
from kernel import crypto
from scopes.models import Scope

pytestmark = pytest.mark.django_db

TEST_KEY = "test1:9Nf0cS4aYV9V7lQ4w3bq0wqvEx0nq2Ff8a3sOq0kq7M="
NEW_KEY = "new2:" + base64.b64encode(b"N" * 32).decode()


def test_client_ids_are_well_formed_and_unique_across_tenants(acme, globex):
    ids = list(ApiKey.objects.values_list("client_id", flat=True))
    assert len(ids) == 4 and len(set(ids)) == 4
    assert all(crypto.is_well_formed_client_id(i) for i in ids)


def test_the_database_refuses_a_duplicate_client_id(acme, globex):
    from django.db import IntegrityError

    taken = ApiKey.objects.filter(tenant=acme).first().client_id
    with pytest.raises(IntegrityError):
        ApiKey.objects.create(tenant=globex, kind="custom", name="dup", client_id=taken)


def test_a_stored_secret_decrypts_to_what_was_issued_and_its_digest_matches(acme_secrets):
    key, plaintext = acme_secrets["emporix"]
    secret = ApiSecret.objects.get(key=key)
    assert secret_plaintext(secret) == plaintext
    assert bytes(secret.digest) == crypto.digest(plaintext)
    assert secret.encryption_key_id == "test1"


def test_a_ciphertext_copied_onto_another_key_fails_to_decrypt(acme_secrets):
    emporix = ApiSecret.objects.get(key=acme_secrets["emporix"][0])
    storefront = ApiSecret.objects.get(key=acme_secrets["storefront"][0])
    ApiSecret.objects.filter(pk=storefront.pk).update(ciphertext=emporix.ciphertext)
    storefront.refresh_from_db()
    with pytest.raises(SecretUnreadable):
        secret_plaintext(storefront)


def test_no_secret_plaintext_is_in_any_database_column(acme_secrets, globex):
    _custom, custom_secret = key_create(
        tenant=acme_secrets["emporix"][0].tenant,
        kind="custom",
        name="Mine",
        scopes=[Scope.objects.get(name="product.product_manage")],
    )
    plaintexts = [p for _, p in acme_secrets.values()] + [custom_secret]
    dump = _dump_database()
    for plaintext in plaintexts:
        assert plaintext not in dump
        assert plaintext[5:30] not in dump  # no fragment either
    assert "akps_" not in dump


def _dump_database() -> str:
    """Every row of every table of the project, as text (bytea as hex and as raw bytes)."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, (bytes, memoryview)):
                        raw = bytes(value)
                        chunks.append(raw.hex())
                        chunks.append(raw.decode("latin-1"))
                    else:
                        chunks.append(str(value))
    return "\n".join(chunks)


def test_reencrypt_moves_every_secret_to_the_newest_key_byte_identical(acme_secrets, globex, capsys):
    before = {s.pk: secret_plaintext(s) for s in ApiSecret.objects.select_related("key")}
    old_blobs = {s.pk: bytes(s.ciphertext) for s in ApiSecret.objects.all()}
    with override_settings(PORTAL_ENCRYPTION_KEYS=f"{NEW_KEY},{TEST_KEY}"):
        call_command("reencrypt_secrets", batch_size=1)
        after = {s.pk: s for s in ApiSecret.objects.select_related("key")}
        assert {s.encryption_key_id for s in after.values()} == {"new2"}
        assert {pk: secret_plaintext(s) for pk, s in after.items()} == before
        assert all(bytes(after[pk].ciphertext) != old_blobs[pk] for pk in after)
        out = capsys.readouterr().out
        assert "4 secret(s) re-encrypted" in out
        # Running again finds nothing to do.
        call_command("reencrypt_secrets")
        assert "0 secret(s) to re-encrypt" in capsys.readouterr().out
    # The old key alone can no longer read them: they really moved.
    with override_settings(PORTAL_ENCRYPTION_KEYS=TEST_KEY), pytest.raises(SecretUnreadable):
        secret_plaintext(ApiSecret.objects.select_related("key").first())


def test_reencrypt_resumes_after_an_interruption(acme_secrets, globex, monkeypatch):
    from django.core.management.base import CommandError

    before = {s.pk: secret_plaintext(s) for s in ApiSecret.objects.select_related("key")}
    real_encrypt = crypto.encrypt
    calls = {"n": 0}

    def flaky_encrypt(plaintext, *, binding):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the operator pressed Ctrl+C mid-batch
        return real_encrypt(plaintext, binding=binding)

    with override_settings(PORTAL_ENCRYPTION_KEYS=f"{NEW_KEY},{TEST_KEY}"):
        monkeypatch.setattr(crypto, "encrypt", flaky_encrypt)
        with pytest.raises(KeyboardInterrupt):
            call_command("reencrypt_secrets", batch_size=2)
        monkeypatch.setattr(crypto, "encrypt", real_encrypt)
        done = ApiSecret.objects.filter(encryption_key_id="new2").count()
        assert done == 2  # the first batch committed, the interrupted one rolled back
        call_command("reencrypt_secrets", batch_size=2)
        secrets = list(ApiSecret.objects.select_related("key"))
        assert {s.encryption_key_id for s in secrets} == {"new2"}
        assert {s.pk: secret_plaintext(s) for s in secrets} == before
    assert CommandError  # imported for readers: failures raise it


def test_reencrypt_leaves_an_undecryptable_secret_alone_and_says_so(acme_secrets, capsys):
    from django.core.management.base import CommandError

    broken = ApiSecret.objects.get(key=acme_secrets["emporix"][0])
    ApiSecret.objects.filter(pk=broken.pk).update(ciphertext=b"\x00" * 40)
    with override_settings(PORTAL_ENCRYPTION_KEYS=f"{NEW_KEY},{TEST_KEY}"), pytest.raises(CommandError):
        call_command("reencrypt_secrets")
    broken.refresh_from_db()
    assert broken.encryption_key_id == "test1" and bytes(broken.ciphertext) == b"\x00" * 40
    assert ApiSecret.objects.filter(encryption_key_id="new2").count() == 1


def test_the_database_allows_one_current_secret_per_key(acme_secrets):
    from django.db import IntegrityError

    key = acme_secrets["emporix"][0]
    with pytest.raises(IntegrityError):
        ApiSecret.objects.create(key=key, ciphertext=b"x", encryption_key_id="test1", digest=b"y" * 32)
