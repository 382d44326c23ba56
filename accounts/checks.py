from django.core.checks import Tags, Warning, register
from django.db import DatabaseError


@register(Tags.database)
def check_second_factors_readable(app_configs, databases=None, **kwargs):
    """Authenticator-app keys and recovery-code seeds sealed under an encryption key that is no
    longer configured cannot be read: those users cannot pass their second factor with them
    (run by `check --database default`). Also counts any still stored in the clear."""
    if not databases:
        return []
    from allauth.mfa.models import Authenticator

    from kernel.crypto import EncryptionConfigError, encryption_keys

    from . import sealing

    try:
        configured = {key.id for key in encryption_keys()}
        rows = list(Authenticator.objects.filter(type__in=list(sealing.FIELDS)).values_list("type", "data"))
    except (DatabaseError, EncryptionConfigError):
        return []  # not migrated yet, or no keys: apikeys' own checks say so
    stranded = clear = 0
    for kind, data in rows:
        ids = sealing.key_ids(data, kind)
        stranded += bool(ids - configured - {None})
        clear += None in ids
    problems = []
    if stranded:
        problems.append(
            Warning(
                f"{stranded} second factor(s) are sealed under an encryption key that is not configured.",
                hint="Configure that key again and run `reencrypt_secrets`; else those users need a new second factor.",
                id="accounts.W001",
            )
        )
    if clear:
        problems.append(
            Warning(
                f"{clear} second factor(s) are stored unencrypted (written by an older version).",
                hint="Run `reencrypt_secrets`, which seals them under the newest encryption key.",
                id="accounts.W002",
            )
        )
    return problems
