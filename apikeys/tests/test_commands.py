import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apikeys.models import ApiKey, ApiSecret
from apikeys.services import secret_plaintext
from conftest import run_manage
from kernel import crypto
from tenants.models import Membership

pytestmark = pytest.mark.django_db
# Outside DEBUG the settings want a mail server (tests/test_mail_settings.py in portal/).
SMTP_URL = "smtp+tls://portal:mail-password@mail.example.com:587"


def test_create_tenant_json_prints_both_keys_with_working_secrets(capsys, django_user_model):
    call_command(
        "create_tenant",
        "shop1",
        "--name",
        "Shop One",
        "--admin",
        "Owner@Example.com",
        "--password",
        "pw-12345-xyz",
        "--json",
    )
    payload = json.loads(capsys.readouterr().out)
    assert payload["tenant"] == "shop1"
    assert [k["kind"] for k in payload["keys"]] == ["emporix", "storefront"]
    assert [k["name"] for k in payload["keys"]] == ["Emporix API", "Storefront API"]
    for entry in payload["keys"]:
        key = ApiKey.objects.get(client_id=entry["client_id"])
        assert crypto.is_well_formed_secret(entry["secret"])
        assert secret_plaintext(ApiSecret.objects.get(key=key)) == entry["secret"]
    user = django_user_model.objects.get(email="owner@example.com")
    assert user.check_password("pw-12345-xyz")
    assert Membership.objects.get(user=user, tenant__code="shop1").role == "admin"


def test_create_tenant_without_json_shows_no_secret(capsys):
    call_command("create_tenant", "shop2", "--admin", "o@example.com")
    out = capsys.readouterr().out
    assert "Client ID" in out and "akps_" not in out


def test_create_tenant_refuses_a_bad_or_taken_code(acme):
    with pytest.raises(CommandError, match="lowercase"):
        call_command("create_tenant", "Bad", "--admin", "o@example.com")
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_tenant", "acme", "--admin", "o@example.com")


def test_production_refuses_to_start_without_its_secrets(tmp_path):
    # A settings run outside DEBUG with nothing set names what is missing.
    result = run_manage(
        ["check"],
        {
            "DEBUG": "off",
            "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
            "SECRET_KEY": "",
            "PORTAL_ENCRYPTION_KEYS": "",
            "EMAIL_URL": "",
            "EMAIL_BACKEND": "",
        },
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr and "PORTAL_ENCRYPTION_KEYS" in result.stderr and "EMAIL_URL" in result.stderr


def test_a_malformed_encryption_key_fails_the_system_check(tmp_path):
    result = run_manage(
        ["check"],
        {
            "DEBUG": "off",
            "SECRET_KEY": "x" * 50,
            "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
            "PORTAL_ENCRYPTION_KEYS": "k1:dG9vc2hvcnQ=",
            "EMAIL_URL": SMTP_URL,
        },
    )
    assert result.returncode != 0
    assert "apikeys.E002" in result.stderr and "32 bytes" in result.stderr
    assert "dG9vc2hvcnQ" not in result.stderr


def test_encryption_keys_can_come_from_a_file(tmp_path):
    keyfile = tmp_path / "keys"
    keyfile.write_text(crypto.generate_encryption_key_entry("f1") + "\n")
    result = run_manage(
        ["check"],
        {
            "DEBUG": "off",
            "SECRET_KEY": "x" * 50,
            "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
            "PORTAL_ENCRYPTION_KEYS": "",
            "PORTAL_ENCRYPTION_KEYS_FILE": str(keyfile),
            "EMAIL_URL": SMTP_URL,
        },
    )
    assert result.returncode == 0, result.stderr


def test_production_settings_pass_the_deploy_check(tmp_path):
    # Every warning of `check --deploy` can be answered from the environment (HSTS included).
    result = run_manage(
        ["check", "--deploy", "--fail-level", "WARNING"],
        {
            "DEBUG": "off",
            "SECRET_KEY": crypto.generate_encryption_key_entry("s")[2:] * 2,
            "PORTAL_ENCRYPTION_KEYS": crypto.generate_encryption_key_entry("d1"),
            "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
            "SECURE_COOKIES": "on",
            "SECURE_SSL_REDIRECT": "on",
            "SECURE_HSTS_SECONDS": "31536000",
            "SECURE_HSTS_INCLUDE_SUBDOMAINS": "on",
            "SECURE_HSTS_PRELOAD": "on",
            "EMAIL_URL": SMTP_URL,
        },
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
