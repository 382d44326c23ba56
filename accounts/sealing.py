"""Second factors' secrets at rest: the authenticator app's key (`secret` of a TOTP
authenticator) and the seed the recovery codes are derived from (`seed`, and `migrated_codes`
if a row has them) are sealed with the portal's encryption keys, as API secrets are
(AES-256-GCM, `kernel.crypto`, the key id kept with the ciphertext). allauth stores them in
the clear unless its MFA adapter's `encrypt`/`decrypt` hooks do otherwise; accounts.adapter's
do this.

A sealed value is the string `akpm1:<key id>:<nonce + ciphertext, base64url>`. Its associated
data binds it to this purpose (a second-factor secret, never an API secret or another
ciphertext of the portal), not to its row: allauth's hook is given the text alone. A value
without the prefix is one stored before sealing (migration 0004 seals every such row; an
instance of an older version, during a rolling deploy, could still write one) and is read as
it is. `reencrypt_secrets` re-seals them under the newest key (registered in apps.py); the
system check accounts.W001 counts those under a key that is no longer configured."""

import base64
import logging
from collections import Counter
from collections.abc import Iterator

from kernel import crypto

logger = logging.getLogger(__name__)

PREFIX = "akpm1:"
BINDING = "mfa-authenticator"
# The sealed fields of allauth's Authenticator.data, per type.
FIELDS = {"totp": ("secret",), "recovery_codes": ("seed", "migrated_codes")}


def seal(text: str) -> str:
    blob, key_id = crypto.encrypt(text, binding=BINDING)
    return f"{PREFIX}{key_id}:{base64.urlsafe_b64encode(blob).decode('ascii')}"


def is_sealed(value: str) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def sealed_key_id(value: str) -> str | None:
    """The encryption key id of a sealed value; None for one stored in the clear."""
    return value[len(PREFIX) :].partition(":")[0] if is_sealed(value) else None


def unseal(value: str) -> str:
    """The text of a sealed value (a value stored in the clear as it is). Raises
    crypto.DecryptionError if its key is not configured or it does not decrypt."""
    if not is_sealed(value):
        return value
    key_id, _, encoded = value[len(PREFIX) :].partition(":")
    try:
        blob = base64.urlsafe_b64decode(encoded.encode("ascii"))
    except ValueError:
        raise crypto.DecryptionError("sealed second-factor secret is not valid base64") from None
    return crypto.decrypt(blob, key_id=key_id, binding=BINDING)


def _values(data: dict, kind: str) -> list[str]:
    values = []
    for field in FIELDS.get(kind, ()):
        value = data.get(field)
        values.extend(value if isinstance(value, list) else [value] if value is not None else [])
    return values


def key_ids(data: dict, kind: str) -> set[str | None]:
    """The key ids the row's sealed fields are under (None: a field stored in the clear)."""
    return {sealed_key_id(value) for value in _values(data, kind)}


def resealed(data: dict, kind: str) -> dict:
    """`data` with every field of `kind` sealed under the newest key (unsealed first). Raises
    crypto.DecryptionError if one does not open; checks each new ciphertext before use."""
    data = dict(data)
    for field in FIELDS.get(kind, ()):
        value = data.get(field)
        if value is None:
            continue
        texts = [unseal(item) for item in value] if isinstance(value, list) else [unseal(value)]
        sealed = [seal(text) for text in texts]
        if [unseal(item) for item in sealed] != texts:
            raise RuntimeError("re-sealing self-check failed")
        data[field] = sealed if isinstance(value, list) else sealed[0]
    return data


def authenticators_reseal(authenticator_model, *, only_stale: bool = True) -> tuple[int, int]:
    """Seal every second-factor secret under the newest encryption key (those in the clear
    too), one row at a time under a row lock; returns (re-sealed, failed). With
    `only_stale`, rows already wholly under the newest key are left alone."""
    from django.db import transaction

    target = crypto.current_key_id()
    done = failed = 0
    rows = authenticator_model.objects.filter(type__in=list(FIELDS)).order_by("pk").values_list("pk", flat=True)
    for pk in list(rows):
        with transaction.atomic():
            row = authenticator_model.objects.select_for_update().filter(pk=pk).first()
            if row is None or (only_stale and key_ids(row.data, row.type) <= {target}):
                continue
            try:
                row.data = resealed(row.data, row.type)
            except crypto.DecryptionError as exc:
                failed += 1
                logger.error("Second factor %s of user %s not re-sealed: %s", row.pk, row.user_id, exc)
                continue
            authenticator_model.objects.filter(pk=pk).update(data=row.data)
            done += 1
    return done, failed


def _sealed_rows(authenticator_model) -> Iterator[tuple[str, dict]]:
    rows = authenticator_model.objects.filter(type__in=list(FIELDS)).order_by("pk").values_list("type", "data")
    return rows.iterator()


def authenticator_key_counts() -> dict[str, int]:
    """Second factors per encryption key id their secrets are sealed under (kernel.crypto's
    sealed_register: readiness and the canaries see what is stored). A row's secrets sit in
    allauth's JSON `data`, so the rows are read (one query; a row per user with a second
    factor, checked once a minute per process)."""
    from allauth.mfa.models import Authenticator

    counts: Counter[str] = Counter()
    for kind, data in _sealed_rows(Authenticator):
        counts.update(key_id for key_id in key_ids(data, kind) if key_id is not None)
    return dict(counts)


def authenticators_reencrypt() -> tuple[int, int]:
    """For `reencrypt_secrets` (kernel.crypto.sealed_register)."""
    from allauth.mfa.models import Authenticator

    return authenticators_reseal(Authenticator)
