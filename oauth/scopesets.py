"""Scope sets: the granted scope names of a token, stored once (oauth.models.ScopeSet) and
referred to by every token granted the same set (docs/token-storage.md).

A set's id is computed from its names, so the token path needs no query to find it: the
token's INSERT is guarded by the set's existence (kernel.db.CompiledInsert's `only_if`), and
only when the set is new (once per distinct set and database, ever) is it stored and the
INSERT sent again. No process remembers which sets exist, so a database restored from a
backup, or a test's rolled-back transaction, never leaves a token referring to nothing."""

import hashlib

from .models import ScopeSet


class ScopeSetCollision(RuntimeError):
    """Two different sets of names with the same 64-bit id (never seen; it would take about
    four billion distinct sets for a one-in-two chance)."""


def scope_set_id(names: str) -> int:
    """The id of the set of `names` (space-separated, in the order granted): the first 8
    bytes of their SHA-256, as a signed 64-bit integer."""
    return int.from_bytes(hashlib.sha256(names.encode()).digest()[:8], "big", signed=True)


def scope_set_store(set_id: int, names: str) -> None:
    """Store the set (a no-op if it exists, also against a concurrent store of the same set),
    and check that the stored one has these names."""
    ScopeSet.objects.bulk_create([ScopeSet(id=set_id, names=names)], ignore_conflicts=True)
    stored = ScopeSet.objects.filter(id=set_id).values_list("names", flat=True).first()
    if stored != names:
        raise ScopeSetCollision(f"scope set {set_id} holds other names")
