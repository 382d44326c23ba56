"""Encryption canaries: one row per encryption key id, holding a known value sealed under that
key. They answer, for any instance, "are my configured keys the ones this database's secrets
were written with?" before a reveal fails:

- a configured key whose id has a canary it cannot open has the wrong key material;
- an instance none of whose keys opens a canary (or any stored secret) can show no secret.

A canary is written for a configured key only when the database has none for its id and, if
secrets are already stored under that id, after one of them decrypts with it, so a wrong key
can never write its own canary over stored secrets.
"""

from collections import Counter
from dataclasses import dataclass, field

from . import crypto
from .models import EncryptionCanary

_ensured: set[crypto.EncryptionKey] = set()  # keys this process has seen with a canary


def _proven(key_id: str) -> bool:
    """True if no sealed value of a store that can tell is kept under `key_id`, or one of them
    decrypts with it (the stores register in kernel.crypto; the client secrets' store first)."""
    for store in crypto.sealed_stores().values():
        if store.opens is not None and (opens := store.opens(key_id)) is not None:
            return opens
    return True


def _stored_counts() -> dict[str, dict[str, int]]:
    """Sealed values per store and encryption key id, of every store that counts its own."""
    return {name: store.key_counts() for name, store in crypto.sealed_stores().items() if store.key_counts is not None}


def canaries_ensure() -> None:
    """Write the missing canaries of the configured keys (first writer wins). Cheap after the
    first call in a process: it remembers which keys it has seen done."""
    keys = crypto.encryption_keys()
    pending = [key for key in keys if key not in _ensured]
    if not pending:
        return
    present = set(EncryptionCanary.objects.filter(key_id__in=[k.id for k in pending]).values_list("key_id", flat=True))
    fresh = [key for key in pending if key.id not in present and _proven(key.id)]
    EncryptionCanary.objects.bulk_create(
        [EncryptionCanary(key_id=key.id, ciphertext=crypto.canary_seal(key.id)) for key in fresh],
        ignore_conflicts=True,
    )
    _ensured.update(key for key in pending if key.id in present or key in fresh)


@dataclass
class CanaryReport:
    readable: list[str] = field(default_factory=list)  # configured ids proven right
    mismatched: list[str] = field(default_factory=list)  # configured ids with the wrong material
    unconfigured_secrets: dict[str, int] = field(default_factory=dict)  # key id -> stored values
    # The same per store: key id -> {store name: stored values}, for messages that name them.
    unconfigured: dict[str, dict[str, int]] = field(default_factory=dict)
    anything_stored: bool = False  # canaries or secrets exist at all

    @property
    def primary_ok(self) -> bool:
        """The key that encrypts is not known to be wrong."""
        return crypto.current_key_id() not in self.mismatched

    @property
    def blind(self) -> bool:
        """Something is stored, and none of the configured keys opens any of it."""
        return self.anything_stored and not self.readable


def canaries_check() -> CanaryReport:
    """How the configured keys fare against the database's canaries and stored secrets. A
    few small queries; never decrypts more than one secret per key without a canary."""
    report = CanaryReport()
    configured = [key.id for key in crypto.encryption_keys()]
    canaries = dict(EncryptionCanary.objects.values_list("key_id", "ciphertext"))
    by_store = _stored_counts()
    stored: Counter[str] = Counter()
    for counts in by_store.values():
        stored.update(counts)
    for key_id in configured:
        if key_id in canaries:
            bucket = report.readable if crypto.canary_opens(bytes(canaries[key_id]), key_id) else report.mismatched
            bucket.append(key_id)
        elif stored[key_id]:
            (report.readable if _proven(key_id) else report.mismatched).append(key_id)
    report.unconfigured_secrets = {key_id: n for key_id, n in stored.items() if key_id not in configured and n}
    report.unconfigured = {
        key_id: {name: counts[key_id] for name, counts in by_store.items() if counts.get(key_id)}
        for key_id in report.unconfigured_secrets
    }
    report.anything_stored = any([canaries, report.unconfigured_secrets, report.readable, report.mismatched])
    return report
