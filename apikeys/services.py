"""Actions on keys. Each is one transaction and writes its activity entry."""

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest

from activity.models import Action
from activity.services import activity_record
from scopes.models import Scope
from tenants.models import Tenant

from . import crypto
from .models import ApiKey, ApiSecret, KeyKind

BUILTIN_NAMES = {KeyKind.EMPORIX: "Emporix API", KeyKind.STOREFRONT: "Storefront API"}


def secret_issue(*, key: ApiKey) -> tuple[ApiSecret, str]:
    """Create a new current secret row for `key` and return it with its plaintext. The
    caller has made sure the key has no other current secret (in the same transaction)."""
    plaintext = crypto.generate_secret()
    secret = ApiSecret(key=key, digest=crypto.digest(plaintext))
    secret.ciphertext, secret.encryption_key_id = crypto.encrypt(plaintext, binding=secret.binding)
    secret.save(force_insert=True)
    return secret, plaintext


def secret_plaintext(secret: ApiSecret) -> str:
    """Decrypt a stored secret for showing it to an authorised user."""
    return crypto.decrypt(secret.ciphertext, key_id=secret.encryption_key_id, binding=secret.binding)


def _new_client_id() -> str:
    # 190 random bits make a collision practically impossible; the unique index has the
    # last word and the caller's transaction would fail loudly rather than reuse an id.
    return crypto.generate_client_id()


@transaction.atomic
def key_create(
    *,
    tenant: Tenant,
    kind: str,
    name: str | None = None,
    scopes: Iterable[Scope] = (),
    actor: Any = None,
    request: HttpRequest | None = None,
) -> tuple[ApiKey, str]:
    """Create a key with its first secret; returns the key and the secret's plaintext."""
    kind = KeyKind(kind)
    if kind != KeyKind.CUSTOM:
        name = BUILTIN_NAMES[kind]
    scopes = list(scopes)
    if kind == KeyKind.CUSTOM and not scopes:
        raise ValueError("A custom key needs at least one scope.")
    key = ApiKey(tenant=tenant, kind=kind, name=name, client_id=_new_client_id())
    try:
        with transaction.atomic():
            key.save(force_insert=True)
    except IntegrityError:
        key.client_id = _new_client_id()
        key.save(force_insert=True)
    if kind == KeyKind.CUSTOM:
        key.scopes.set(scopes)
    _, plaintext = secret_issue(key=key)
    activity_record(
        tenant=tenant,
        action=Action.KEY_CREATED,
        actor=actor,
        key=key,
        request=request,
        details={"kind": kind.value, "scopes": sorted(s.name for s in scopes)} if scopes else {"kind": kind.value},
    )
    return key, plaintext
