"""Actions on keys. Each is one transaction and writes its activity entry."""

import functools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from activity.audit import SYSTEM, Audit
from activity.models import Action
from activity.services import activity_record
from kernel import crypto
from kernel.canary import canaries_ensure
from kernel.outages import lock_timed_out
from scopes.models import Scope
from tenants.models import Membership, Tenant

from .models import (
    RATE_LIMIT_MAX,
    RATE_PERIOD_WORDS,
    ApiKey,
    ApiSecret,
    Environment,
    KeyKind,
    NetworkRefusal,
    RatePeriod,
    TokenFormat,
    labels_store,
    rate_limit_words,
)
from .networks import networks_clean
from .origins import known_origins_forget, origins_clean

logger = logging.getLogger(__name__)


class KeyBusy(Exception):
    """The key's rows stayed locked by another transaction past the lock timeout
    (DB_LOCK_TIMEOUT); nothing was changed."""

    def __init__(self) -> None:
        super().__init__("This key is being changed by someone else; try again.")


def _busy_when_locked(action: Callable) -> Callable:
    """Turns a lock wait that ran out into KeyBusy. Goes outside transaction.atomic, so the
    transaction has rolled back by then."""

    @functools.wraps(action)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return action(*args, **kwargs)
        except OperationalError as exc:
            if lock_timed_out(exc):
                raise KeyBusy() from exc
            raise

    return wrapper


def secret_issue(*, key: ApiKey) -> tuple[ApiSecret, str]:
    """Create a new current secret row for `key` and return it with its plaintext. The
    caller has made sure the key has no other current secret (in the same transaction)."""
    canaries_ensure()
    plaintext = crypto.generate_secret()
    secret = ApiSecret(key=key, digest=crypto.digest(plaintext))
    secret.ciphertext, secret.encryption_key_id = crypto.encrypt(plaintext, binding=secret.binding)
    secret.save(force_insert=True)
    return secret, plaintext


class SecretUnreadable(Exception):
    """A stored secret does not decrypt with the configured encryption keys (a key is missing
    or wrong: see `check --database default`). The message names ids, never key material."""


def secret_plaintext(secret: ApiSecret) -> str:
    """Decrypt a stored secret for showing it to an authorised user. Raises SecretUnreadable."""
    try:
        return crypto.decrypt(secret.ciphertext, key_id=secret.encryption_key_id, binding=secret.binding)
    except crypto.DecryptionError as exc:
        logger.error("secret %s of key %s cannot be decrypted: %s", secret.public_id, secret.key_id, exc)
        raise SecretUnreadable(str(exc)) from None


SHOW_PURPOSES = {"reveal": Action.SECRET_REVEALED, "copy": Action.SECRET_COPIED}


def secret_show(*, secret: ApiSecret, purpose: str, audit: Audit = SYSTEM) -> str:
    """Decrypt a live secret for an admin or developer who asked to reveal or copy it (the
    caller has checked the role), and record that in the activity log, without the secret.
    A secret that does not decrypt is recorded as such and raises SecretUnreadable."""
    details = {"secret": "current" if secret.is_current else "old", "secret_created": secret.created_at.isoformat()}
    try:
        plaintext = secret_plaintext(secret)
    except SecretUnreadable:
        details["encryption_key"] = secret.encryption_key_id
        activity_record(
            tenant=secret.key.tenant, action=Action.SECRET_UNREADABLE, audit=audit, key=secret.key, details=details
        )
        raise
    activity_record(
        tenant=secret.key.tenant, action=SHOW_PURPOSES[purpose], audit=audit, key=secret.key, details=details
    )
    return plaintext


def key_expiry_check(tenant: Tenant, expires_at: datetime | None, now: datetime) -> datetime | None:
    """The expiry a new (or edited) custom key gets under the tenant's maximum lifetime: the
    maximum if none is chosen; ValueError (its message for the user) if past it or past."""
    if expires_at is not None and expires_at <= now:
        raise ValueError("The expiry date must be in the future.")
    if tenant.key_max_lifetime_days is None:
        return expires_at
    latest = now + timedelta(days=tenant.key_max_lifetime_days)
    if expires_at is None:
        return latest
    if expires_at > latest:
        raise ValueError(
            f"This tenant's keys may live at most {tenant.key_max_lifetime_days} days: "
            f"choose a date until {latest:%Y-%m-%d}."
        )
    return expires_at


def renew_by_for(tenant: Tenant, issued: datetime) -> datetime | None:
    """When a secret issued at `issued` must have been renewed, under the tenant's policy."""
    if tenant.secret_max_age_days is None:
        return None
    return issued + timedelta(days=tenant.secret_max_age_days)


@transaction.atomic
def key_create(
    *,
    tenant: Tenant,
    kind: str,
    name: str | None = None,
    scopes: Iterable[Scope] = (),
    expires_at: datetime | None = None,
    token_format: str = TokenFormat.DEFAULT,
    metadata: "KeyMetadata | None" = None,
    audit: Audit = SYSTEM,
) -> tuple[ApiKey, str]:
    """Create a key with its first secret; returns the key and the secret's plaintext. A
    built-in key is named after its kind. A custom key may expire (`expires_at`); under a
    tenant's maximum key lifetime it must, within it (none given: the maximum)."""
    kind = KeyKind(kind)
    if kind != KeyKind.CUSTOM:
        name = kind.label
        if expires_at is not None:
            raise ValueError("Only custom keys can expire.")
    scopes = list(scopes)
    if kind == KeyKind.CUSTOM and not scopes:
        raise ValueError("A custom key needs at least one scope.")
    now = timezone.now()
    if kind == KeyKind.CUSTOM:
        expires_at = key_expiry_check(tenant, expires_at, now)
    # 190 random bits make a collision practically impossible; the unique index has the
    # last word, and the transaction fails loudly rather than reuse an id.
    key = ApiKey(
        tenant=tenant,
        kind=kind,
        name=name,
        client_id=crypto.generate_client_id(),
        expires_at=expires_at,
        renew_by=renew_by_for(tenant, now),
        token_format=TokenFormat(token_format) if kind == KeyKind.CUSTOM else TokenFormat.DEFAULT,
    )
    if metadata is not None:
        metadata.apply(key)
    key.save(force_insert=True)
    if kind == KeyKind.CUSTOM:
        key.scopes.set(scopes)
    _, plaintext = secret_issue(key=key)
    activity_record(
        tenant=tenant,
        action=Action.KEY_CREATED,
        audit=audit,
        key=key,
        details={
            "kind": kind.value,
            **({"scopes": sorted(s.name for s in scopes)} if scopes else {}),
            **({"expires_at": expires_at.isoformat()} if expires_at else {}),
            **({"token_format": key.token_format} if key.token_format else {}),
            **(metadata.described() if metadata is not None else {}),
        },
    )
    return key, plaintext


@_busy_when_locked
@transaction.atomic
def key_renew(
    *,
    key: ApiKey,
    grace: timedelta | None = None,
    audit: Audit = SYSTEM,
) -> tuple[ApiKey, ApiSecret, str]:
    """Give `key` a new current secret; the Client ID stays. With no grace the old secret
    (and every other live one) stops working at once, and with it every access token the
    key issued; with a grace the previous current secret works until now + grace. A key keeps
    at most one old secret: one still in its grace period from an earlier renew stops now.

    Locks the key row first, so concurrent renews of one key run one after the other: each
    sees the secret the previous one made, and there is never more than one current secret.
    The lock is FOR NO KEY UPDATE, so token requests (whose new rows refer to the key) are not
    held up. A lock held elsewhere for longer than the lock timeout raises KeyBusy."""
    key = ApiKey.objects.select_for_update(no_key=True).get(pk=key.pk)
    now = timezone.now()
    # Old secrets still in a grace period stop now (with their tokens), whatever the grace.
    retired = key.secrets.in_grace(now).update(expires_at=now)
    key.secrets.current().update(expires_at=now + grace if grace else now)
    secret, plaintext = secret_issue(key=key)
    key.renewed_at = now
    key.renew_by = renew_by_for(key.tenant, now)
    key.save(update_fields=["renewed_at", "renew_by"])
    activity_record(
        tenant=key.tenant,
        action=Action.KEY_RENEWED,
        audit=audit,
        key=key,
        details={
            "old_secret_stops": "now" if grace is None else (now + grace).isoformat(),
            "grace_seconds": int(grace.total_seconds()) if grace else 0,
            **({"older_secret_retired": retired} if retired else {}),
        },
    )
    return key, secret, plaintext


@transaction.atomic
def secret_retire(*, secret: ApiSecret, audit: Audit = SYSTEM) -> ApiSecret:
    """Make an old secret (one still in its grace period) stop working now. The current
    secret cannot be retired: renew the key instead."""
    key = ApiKey.objects.select_for_update(no_key=True).get(pk=secret.key_id)
    secret = ApiSecret.objects.get(pk=secret.pk)
    if secret.expires_at is None:
        raise ValueError("The current secret cannot be retired; renew the key instead.")
    now = timezone.now()
    if secret.expires_at > now:
        secret.expires_at = now
        secret.save(update_fields=["expires_at"])
        activity_record(
            tenant=key.tenant,
            action=Action.SECRET_RETIRED,
            audit=audit,
            key=key,
            details={"secret_created": secret.created_at.isoformat()},
        )
    return secret


@transaction.atomic
def key_update(
    *,
    key: ApiKey,
    name: str,
    scopes: Iterable[Scope],
    token_format: str | None = None,
    audit: Audit = SYSTEM,
) -> ApiKey:
    """Change a custom key's name, scopes and (unless None) access-token format, recording
    what changed."""
    key = ApiKey.objects.select_for_update(no_key=True).get(pk=key.pk)
    if key.kind != KeyKind.CUSTOM:
        raise ValueError("Only custom keys can be edited.")
    scopes = list(scopes)
    if not scopes:
        raise ValueError("A custom key needs at least one scope.")
    before = set(key.scopes.values_list("name", flat=True))
    after = {s.name for s in scopes}
    changes: dict[str, Any] = {}
    if name != key.name:
        changes["name"] = {"from": key.name, "to": name}
        key.name = name
        key.save(update_fields=["name"])
    if before != after:
        changes["scopes_added"] = sorted(after - before)
        changes["scopes_removed"] = sorted(before - after)
        key.scopes.set(scopes)
    if token_format is not None and token_format != key.token_format:
        changes["token_format"] = {"from": key.token_format, "to": TokenFormat(token_format).value}
        key.token_format = token_format
        key.save(update_fields=["token_format"])
    if changes:
        activity_record(tenant=key.tenant, action=Action.KEY_CHANGED, audit=audit, key=key, details=changes)
    return key


@dataclass(frozen=True)
class KeyMetadata:
    """What a key is for (docs/keys.md): a description, an owner (a member of the key's
    tenant, or None), an environment and free labels. The caller has validated them (the
    forms, the API's serializers); the owner's membership is checked again here."""

    description: str = ""
    owner: Any = None  # a user, or None
    environment: str = Environment.NONE
    labels: tuple[str, ...] = ()

    def apply(self, key: ApiKey) -> None:
        if self.owner is not None and not Membership.objects.filter(tenant_id=key.tenant_id, user=self.owner).exists():
            raise ValueError("The owner must be a member of the tenant.")
        key.description = self.description
        key.owner = self.owner
        key.environment = Environment(self.environment).value
        key.labels = labels_store(self.labels)

    def described(self) -> dict[str, Any]:
        """The non-empty fields, as an activity entry records them."""
        details: dict[str, Any] = {}
        if self.description:
            details["description"] = self.description
        if self.owner is not None:
            details["owner"] = self.owner.email
        if self.environment:
            details["environment"] = self.environment
        if self.labels:
            details["labels"] = sorted(set(self.labels))
        return details


def _metadata_of(key: ApiKey) -> dict[str, Any]:
    return {
        "description": key.description,
        "owner": key.owner.email if key.owner_id else None,
        "environment": key.environment,
        "labels": key.label_list,
    }


@_busy_when_locked
@transaction.atomic
def key_metadata_set(*, key: ApiKey, metadata: KeyMetadata, audit: Audit = SYSTEM) -> ApiKey:
    """Set what a key is for (any key, built-in ones too), recording each field that changed
    as {"from": ..., "to": ...} in one "Key changed" entry."""
    key = ApiKey.objects.select_for_update(no_key=True, of=("self",)).select_related("owner").get(pk=key.pk)
    before = _metadata_of(key)
    metadata.apply(key)
    after = _metadata_of(key)
    changes = {name: {"from": before[name], "to": after[name]} for name in before if before[name] != after[name]}
    if changes:
        key.save(update_fields=["description", "owner", "environment", "labels"])
        activity_record(tenant=key.tenant, action=Action.KEY_CHANGED, audit=audit, key=key, details=changes)
    return key


def keys_owned_clear(*, tenant: Tenant, user: Any, audit: Audit = SYSTEM) -> int:
    """A member left the tenant: the keys they owned have no owner now, each change in the
    activity log. How many keys that was."""
    keys = list(ApiKey.objects.select_for_update(no_key=True).filter(tenant=tenant, owner=user))
    for key in keys:
        key.owner = None
        key.save(update_fields=["owner"])
        activity_record(
            tenant=tenant,
            action=Action.KEY_CHANGED,
            audit=audit,
            key=key,
            details={"owner": {"from": user.email, "to": None}, "reason": "the owner left the tenant"},
        )
    return len(keys)


@_busy_when_locked
@transaction.atomic
def key_disable(*, key: ApiKey, audit: Audit = SYSTEM, reason: str = "") -> ApiKey:
    """Switch a key off without deleting it: from now on its secrets authenticate nowhere and
    its access tokens are inactive (the live-secret rule reads `disabled_at`), on every worker
    at once. Its secrets, scopes and history are kept. Built-in keys can be disabled too (the
    page warns). Disabling a disabled key changes nothing."""
    key = ApiKey.objects.select_for_update(no_key=True).get(pk=key.pk)
    if key.disabled_at is None:
        key.disabled_at = timezone.now()
        key.save(update_fields=["disabled_at"])
        activity_record(
            tenant=key.tenant,
            action=Action.KEY_DISABLED,
            audit=audit,
            key=key,
            details={"reason": reason} if reason else {},
        )
    return key


@_busy_when_locked
@transaction.atomic
def key_enable(*, key: ApiKey, audit: Audit = SYSTEM) -> ApiKey:
    """Switch a disabled key on again. Its secrets authenticate again; access tokens issued
    before now stay inactive (`tokens_not_before`), so nothing a client obtained before the
    key was disabled comes back to life."""
    key = ApiKey.objects.select_for_update(no_key=True).get(pk=key.pk)
    if key.disabled_at is not None:
        now = timezone.now()
        disabled_for = now - key.disabled_at
        key.disabled_at = None
        key.tokens_not_before = now
        key.save(update_fields=["disabled_at", "tokens_not_before"])
        activity_record(
            tenant=key.tenant,
            action=Action.KEY_ENABLED,
            audit=audit,
            key=key,
            details={"disabled_for_seconds": int(disabled_for.total_seconds())},
        )
    return key


@_busy_when_locked
@transaction.atomic
def key_expiry_set(*, key: ApiKey, expires_at: datetime | None, audit: Audit = SYSTEM) -> ApiKey:
    """Give a custom key an expiry date (None: it never expires). From that moment its secrets
    fail at the token endpoint like any wrong secret and its tokens stop; setting a later
    date (extending) brings the key back, without its earlier tokens."""
    key = ApiKey.objects.select_for_update(no_key=True).get(pk=key.pk)
    if key.kind != KeyKind.CUSTOM:
        raise ValueError("Only custom keys can expire.")
    if expires_at == key.expires_at:
        return key
    now = timezone.now()
    expires_at = key_expiry_check(key.tenant, expires_at, now)
    fields = ["expires_at"]
    if key.is_expired(now):
        key.tokens_not_before = now
        fields.append("tokens_not_before")
    previous, key.expires_at = key.expires_at, expires_at
    key.save(update_fields=fields)
    activity_record(
        tenant=key.tenant,
        action=Action.KEY_EXPIRY_CHANGED,
        audit=audit,
        key=key,
        details={
            "from": previous.isoformat() if previous else None,
            "to": expires_at.isoformat() if expires_at else None,
        },
    )
    return key


def _key_lines_set(key: ApiKey, field: str, cleaned: str, *, action: str, audit: Audit) -> bool:
    """Store a key's one-entry-a-line list (networks, origins) if it changed, with an activity
    entry listing it before and after; whether it changed. The caller holds the key's row lock."""
    previous = getattr(key, field)
    if cleaned == previous:
        return False
    setattr(key, field, cleaned)
    key.save(update_fields=[field])
    details = {"from": previous.split("\n") if previous else [], "to": cleaned.split("\n") if cleaned else []}
    activity_record(tenant=key.tenant, action=action, audit=audit, key=key, details=details)
    return True


@_busy_when_locked
@transaction.atomic
def key_networks_set(*, key: ApiKey, allowed_networks: str, audit: Audit = SYSTEM) -> ApiKey:
    """Set the networks a key may be used from (text as an admin types it; "" for any).
    Raises ValidationError for a list that does not parse."""
    cleaned = networks_clean(allowed_networks)
    key = ApiKey.objects.select_for_update(no_key=True).get(pk=key.pk)
    _key_lines_set(key, "allowed_networks", cleaned, action=Action.KEY_NETWORKS_CHANGED, audit=audit)
    return key


@_busy_when_locked
@transaction.atomic
def key_origins_set(*, key: ApiKey, allowed_origins: str | list[str], audit: Audit = SYSTEM) -> ApiKey:
    """Set the web origins a Storefront or custom key may be used from in a browser (text as an
    admin types it, or a list; "" for none). Raises ValidationError for a list that does not
    parse, ValueError for a kind that has none (apikeys.origins)."""
    if key.kind == KeyKind.EMPORIX:
        raise ValueError(f"The {key.name} key is for servers: it has no allowed origins.")
    cleaned = origins_clean(allowed_origins, allow_any=key.kind == KeyKind.STOREFRONT)
    key = ApiKey.objects.select_for_update(no_key=True).get(pk=key.pk)
    if _key_lines_set(key, "allowed_origins", cleaned, action=Action.KEY_ORIGINS_CHANGED, audit=audit):
        # Preflights read the union of every key's origins from the cache.
        transaction.on_commit(known_origins_forget)
    return key


@_busy_when_locked
@transaction.atomic
def key_token_lifetime_set(*, key: ApiKey, seconds: int | None, audit: Audit = SYSTEM) -> ApiKey:
    """Give a custom key its own access-token lifetime (None: the deployment's), between 60 s
    and ACCESS_TOKEN_LIFETIME_MAX. Tokens already issued keep theirs."""
    if key.kind != KeyKind.CUSTOM:
        raise ValueError("Only custom keys have their own token lifetime.")
    if seconds is not None and not 60 <= seconds <= settings.ACCESS_TOKEN_LIFETIME_MAX:
        raise ValueError(f"The token lifetime must be between 60 and {settings.ACCESS_TOKEN_LIFETIME_MAX} seconds.")
    key = ApiKey.objects.select_for_update(no_key=True).get(pk=key.pk)
    if seconds != key.token_lifetime:
        previous, key.token_lifetime = key.token_lifetime, seconds
        key.save(update_fields=["token_lifetime"])
        activity_record(
            tenant=key.tenant,
            action=Action.KEY_CHANGED,
            audit=audit,
            key=key,
            details={"token_lifetime": {"from": previous, "to": seconds}},
        )
    return key


def rate_limit_check(limit: int | None, period: str) -> None:
    """Raise ValueError unless `limit` is None (no limit) or a whole number from 1 to the
    period's RATE_LIMIT_MAX, and `period` is a RatePeriod."""
    if period not in RatePeriod.values:
        raise ValueError("The rate limit's period must be second or minute.")
    if limit is not None and not 1 <= limit <= RATE_LIMIT_MAX[period]:
        raise ValueError(
            f"The rate limit must be between 1 and {RATE_LIMIT_MAX[period]:,} requests {RATE_PERIOD_WORDS[period]}."
        )


@_busy_when_locked
@transaction.atomic
def key_rate_limit_set(*, key: ApiKey, limit: int | None, period: str, audit: Audit = SYSTEM) -> ApiKey:
    """Give any key its own rate limit (None: none), `limit` requests per `period`, enforced
    by the token service and the gateway check (apikeys.limits). A change is one activity
    entry (KEY_CHANGED, in words); the gateway's cached tokens carry the limit they were
    verified with for up to GATEWAY_CACHE_SECONDS."""
    rate_limit_check(limit, period)
    key = ApiKey.objects.select_for_update(no_key=True).get(pk=key.pk)
    before = rate_limit_words(key.rate_limit, key.rate_limit_period) if key.rate_limit else None
    after = rate_limit_words(limit, period) if limit else None
    if before == after:
        return key
    key.rate_limit = limit
    key.rate_limit_period = period if limit else RatePeriod.MINUTE
    key.save(update_fields=["rate_limit", "rate_limit_period"])
    activity_record(
        tenant=key.tenant,
        action=Action.KEY_CHANGED,
        audit=audit,
        key=key,
        details={"rate_limit": {"from": before, "to": after}},
    )
    return key


def network_refusal_record(*, key_id: int, address: str, now: datetime) -> None:
    """Count a token request refused because it came from outside the key's networks: one
    UPDATE per refusal; the first of each hour also writes an activity entry."""
    window = now.replace(minute=0, second=0, microsecond=0)
    address = address[:64]
    bump = NetworkRefusal.objects.filter(key_id=key_id, window_start=window)
    if bump.update(count=F("count") + 1, last_address=address):
        return
    try:
        with transaction.atomic():
            key = ApiKey.objects.select_related("tenant").get(pk=key_id)
            entry = activity_record(
                tenant=key.tenant,
                action=Action.KEY_NETWORK_REFUSED,
                audit=Audit(actor=None, address=address),
                key=key,
                details={"hour": window.isoformat(), "first_address": address},
            )
            NetworkRefusal.objects.create(
                key=key, window_start=window, count=1, first_address=address, last_address=address, entry=entry
            )
    except IntegrityError:  # another request of the same hour was first
        bump.update(count=F("count") + 1, last_address=address)


@transaction.atomic
def key_delete(*, key: ApiKey, audit: Audit = SYSTEM) -> None:
    """Delete a custom key with its secrets (and so its access tokens). The Emporix API and
    Storefront API keys cannot be deleted."""
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if key.kind != KeyKind.CUSTOM:
        raise ValueError(f"The {key.name} key cannot be deleted.")
    activity_record(
        tenant=key.tenant,
        action=Action.KEY_DELETED,
        audit=audit,
        key=key,
        details={
            "name": key.name,
            "client_id": key.client_id,
            "scopes": sorted(key.scopes.values_list("name", flat=True)),
        },
    )
    key.delete()
