import base64
import re

import pytest
from django.test import override_settings

from kernel import crypto

KEY_A = "a:" + base64.b64encode(b"A" * 32).decode()
KEY_B = "b:" + base64.b64encode(b"B" * 32).decode()


def test_a_secret_matches_the_documented_regex_and_checksum():
    for _ in range(200):
        secret = crypto.generate_secret()
        assert re.fullmatch(crypto.SECRET_REGEX, secret)
        assert secret.startswith("akps_") and len(secret) == 5 + 43 + 6
        assert crypto.is_well_formed_secret(secret)


def test_secrets_carry_at_least_256_bits():
    assert 62**crypto.SECRET_BODY_LENGTH >= 2**256


def test_the_regex_finds_a_secret_in_text():
    secret = crypto.generate_secret()
    assert re.findall(crypto.SECRET_REGEX, f"leaked: {secret}, oops") == [secret]


def test_a_one_character_change_is_rejected():
    secret = crypto.generate_secret()
    for position in range(len("akps_"), len(secret)):
        original = secret[position]
        replacement = "a" if original != "a" else "b"
        changed = secret[:position] + replacement + secret[position + 1 :]
        assert not crypto.is_well_formed_secret(changed), position


@pytest.mark.parametrize(
    "value", ["", "akps_", "akpx_" + "a" * 49, "akps_" + "a" * 48, "akps_" + "a" * 50, "akps_" + "!" * 49, None, 42]
)
def test_malformed_values_are_not_secrets(value):
    assert not crypto.is_well_formed_secret(value)


def test_client_ids_are_32_letters_and_digits_and_distinct():
    ids = {crypto.generate_client_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(re.fullmatch(r"[A-Za-z0-9]{32}", i) for i in ids)


def test_tokens_are_prefixed_and_carry_256_bits():
    token = crypto.generate_token()
    assert token.startswith("akpt_")
    assert len(base64.urlsafe_b64decode(token[5:] + "=")) == 32


@override_settings(PORTAL_ENCRYPTION_KEYS=KEY_A)
def test_encryption_round_trips_with_a_fresh_nonce_each_time():
    first, key_id = crypto.encrypt("hello", binding="row-1")
    second, _ = crypto.encrypt("hello", binding="row-1")
    assert key_id == "a"
    assert first[:12] != second[:12] and first != second
    assert b"hello" not in first
    assert crypto.decrypt(first, key_id="a", binding="row-1") == "hello"


def test_decryption_fails_with_a_wrong_key():
    with override_settings(PORTAL_ENCRYPTION_KEYS=KEY_A):
        blob, _ = crypto.encrypt("hello", binding="row-1")
    wrong_a = "a:" + base64.b64encode(b"Z" * 32).decode()
    with override_settings(PORTAL_ENCRYPTION_KEYS=wrong_a), pytest.raises(crypto.DecryptionError):
        crypto.decrypt(blob, key_id="a", binding="row-1")
    with override_settings(PORTAL_ENCRYPTION_KEYS=KEY_B), pytest.raises(crypto.DecryptionError):
        crypto.decrypt(blob, key_id="a", binding="row-1")


@override_settings(PORTAL_ENCRYPTION_KEYS=KEY_A)
def test_a_ciphertext_bound_to_one_row_fails_on_another():
    blob, key_id = crypto.encrypt("hello", binding="row-1")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(blob, key_id=key_id, binding="row-2")


@override_settings(PORTAL_ENCRYPTION_KEYS=KEY_A)
def test_tampering_is_detected():
    blob, key_id = crypto.encrypt("hello", binding="row-1")
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(tampered, key_id=key_id, binding="row-1")


def test_old_ciphertexts_decrypt_after_a_new_first_key_is_added():
    with override_settings(PORTAL_ENCRYPTION_KEYS=KEY_A):
        blob, key_id = crypto.encrypt("hello", binding="row-1")
    with override_settings(PORTAL_ENCRYPTION_KEYS=f"{KEY_B},{KEY_A}"):
        assert crypto.decrypt(blob, key_id=key_id, binding="row-1") == "hello"
        assert crypto.encrypt("x", binding="row-1")[1] == "b"


@pytest.mark.parametrize(
    "raw, message",
    [
        ("", "no encryption key"),
        ("nocolon", "id:base64key"),
        ("a:!!!notbase64", "not valid base64"),
        ("a:" + base64.b64encode(b"short").decode(), "32 bytes"),
        (f"{KEY_A},{KEY_A}", "appears twice"),
        ("bad id:" + base64.b64encode(b"A" * 32).decode(), "id:base64key"),
    ],
)
def test_malformed_key_configuration_is_rejected_without_showing_key_material(raw, message):
    with pytest.raises(crypto.EncryptionConfigError) as excinfo:
        crypto.parse_encryption_keys(raw)
    assert message in str(excinfo.value)
    assert base64.b64encode(b"A" * 32).decode() not in str(excinfo.value)


def test_keys_parse_from_lines_with_comments():
    keys = crypto.parse_encryption_keys(f"# newest first\n{KEY_B}\n\n{KEY_A}\n")
    assert [k.id for k in keys] == ["b", "a"]
    assert "QUFB" not in repr(keys)


def test_digest_comparison():
    d = crypto.digest("x")
    assert crypto.matching_digest(d, [crypto.digest("y"), d]) == 1
    assert crypto.matching_digest(d, [crypto.digest("y")]) is None
    assert crypto.matching_digest(d, []) is None


def test_only_the_crypto_module_imports_secrets_hmac_or_cryptography():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    pattern = re.compile(r"^\s*(import|from)\s+(secrets|hmac|cryptography)\b", re.M)
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if ".venv" not in path.parts
        and "tests" not in path.parts
        and path.name != "crypto.py"
        and pattern.search(path.read_text())
    ]
    assert offenders == []


def test_the_readme_and_the_security_model_show_the_regex_the_code_uses():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for document in ("README.md", "docs/security.md"):
        assert f"\n{crypto.SECRET_REGEX}\n" in (root / document).read_text(), document
