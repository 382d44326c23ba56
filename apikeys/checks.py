from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import DatabaseError

from kernel.crypto import EncryptionConfigError, parse_encryption_keys

CLIENT_SECRETS = "client secret"  # the store's name in kernel.crypto's registry (apps.py)


@register()
def check_encryption_keys(app_configs, **kwargs):
    """Reject malformed PORTAL_ENCRYPTION_KEYS (the message never shows key material)."""
    raw = settings.PORTAL_ENCRYPTION_KEYS
    if not raw.strip():
        return [
            Error(
                "PORTAL_ENCRYPTION_KEYS is not set: API secrets cannot be stored or shown.",
                hint="Run `python manage.py generate_encryption_key` and put its output in .env.",
                id="apikeys.E001",
            )
        ]
    try:
        parse_encryption_keys(raw)
    except EncryptionConfigError as exc:
        return [Error(f"PORTAL_ENCRYPTION_KEYS is malformed: {exc}.", id="apikeys.E002")]
    return []


@register(Tags.database)
def check_encryption_keys_match_the_database(app_configs, databases=None, **kwargs):
    """The configured keys against the database's canaries and stored secrets (run by
    `check --database default`, by `make run` and when gunicorn starts): a wrong key, or keys
    none of which can open what is stored, would make every reveal fail."""
    if not databases or check_encryption_keys(app_configs):
        return []
    from kernel.canary import canaries_check

    try:
        report = canaries_check()
    except DatabaseError:
        return []  # not migrated yet, or unreachable: migrate and /readyz tell
    errors = [
        Error(
            f"Encryption key {key_id!r} is not the key this database knows by that id: "
            "secrets stored under it cannot be decrypted.",
            hint="Use the same PORTAL_ENCRYPTION_KEYS on every instance; see 'Encryption keys and rotation' in docs/configuration.md.",
            id="apikeys.E004",
        )
        for key_id in report.mismatched
    ]
    if report.blind:
        errors.append(
            Error(
                "None of the configured encryption keys decrypts what this database stores "
                "(its encryption canaries or secrets): no secret could be shown.",
                hint="Configure the key(s) the secrets were written with; a new key is added beside them, never instead.",
                id="apikeys.E003",
            )
        )
    # The client secrets only: the other sealed stores' apps warn about theirs.
    for key_id, stores in sorted(report.unconfigured.items()):
        if not (count := stores.get(CLIENT_SECRETS)):
            continue
        errors.append(
            Warning(
                f"{count} secret(s) are stored under encryption key {key_id!r}, which is not configured: "
                "they cannot be shown.",
                hint="Keep that key in PORTAL_ENCRYPTION_KEYS until `reencrypt_secrets` reports 0 remaining.",
                id="apikeys.W001",
            )
        )
    return errors
