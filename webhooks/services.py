"""Actions on webhook endpoints, one transaction each. The signing secret is generated and
encrypted by kernel.crypto (the one module that holds cryptography) and bound to its row."""

import logging
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from kernel import crypto
from kernel.canary import canaries_ensure
from tenants.models import Tenant

from .models import Endpoint

logger = logging.getLogger(__name__)


class SecretUnreadable(Exception):
    """The endpoint's secret does not decrypt with the configured encryption keys."""


def _seal(endpoint: Endpoint, secret: str) -> None:
    canaries_ensure()
    endpoint.secret_ciphertext, endpoint.secret_key_id = crypto.encrypt(secret, binding=endpoint.binding)


def endpoint_secret(endpoint: Endpoint) -> str:
    """The endpoint's signing secret, decrypted (for signing, or an admin who asked to see it)."""
    try:
        return crypto.decrypt(endpoint.secret_ciphertext, key_id=endpoint.secret_key_id, binding=endpoint.binding)
    except crypto.DecryptionError as exc:
        logger.error("webhook endpoint %s: signing secret cannot be decrypted: %s", endpoint.public_id, exc)
        raise SecretUnreadable(str(exc)) from None


def endpoint_secret_reveal(*, endpoint: Endpoint) -> str:
    """The secret for an admin who asked to see it; remembers when (shown on the page)."""
    secret = endpoint_secret(endpoint)
    endpoint.secret_revealed_at = timezone.now()
    Endpoint.objects.filter(pk=endpoint.pk).update(secret_revealed_at=endpoint.secret_revealed_at)
    return secret


@transaction.atomic
def endpoint_create(
    *, tenant: Tenant, url: str, event_types: Iterable[str], description: str = ""
) -> tuple[Endpoint, str]:
    """A new endpoint with a fresh signing secret; returns it with the secret's plaintext."""
    endpoint = Endpoint(tenant=tenant, url=url, event_types=sorted(event_types), description=description)
    secret = crypto.generate_webhook_secret()
    _seal(endpoint, secret)
    endpoint.save(force_insert=True)
    return endpoint, secret


@transaction.atomic
def endpoint_update(
    *, endpoint: Endpoint, url: str, event_types: Iterable[str], description: str, is_active: bool
) -> Endpoint:
    """Change where and what an endpoint receives. Turning it back on starts its failure count afresh."""
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.url, endpoint.description = url, description
    endpoint.event_types = sorted(event_types)
    if is_active and not endpoint.is_active:
        endpoint.consecutive_failures, endpoint.failure_notified_at = 0, None
    endpoint.is_active = is_active
    endpoint.save()
    return endpoint


@transaction.atomic
def endpoint_secret_rotate(*, endpoint: Endpoint) -> tuple[Endpoint, str]:
    """A new signing secret; the old one signs nothing from now on (deliveries not yet made
    are signed with the new one)."""
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    secret = crypto.generate_webhook_secret()
    _seal(endpoint, secret)
    endpoint.secret_rotated_at = timezone.now()
    endpoint.save(update_fields=["secret_ciphertext", "secret_key_id", "secret_rotated_at"])
    return endpoint, secret


@transaction.atomic
def endpoint_delete(*, endpoint: Endpoint) -> None:
    """Remove an endpoint with its deliveries and their log (the events stay for others)."""
    Endpoint.objects.filter(pk=endpoint.pk).delete()


def endpoint_secret_key_counts() -> dict[str, int]:
    """Signing secrets per encryption key id (kernel.crypto.sealed_register: readiness and the
    canaries see what is stored)."""
    return dict(Endpoint.objects.order_by().values_list("secret_key_id").annotate(count=Count("id")))


def endpoint_secret_opens(key_id: str) -> bool | None:
    """Whether a signing secret stored under `key_id` decrypts with the configured key of that
    id; None when none is."""
    endpoint = Endpoint.objects.filter(secret_key_id=key_id).first()
    if endpoint is None:
        return None
    return crypto.opens(endpoint.secret_ciphertext, key_id=key_id, binding=endpoint.binding)


@transaction.atomic
def endpoint_secrets_reencrypt() -> tuple[int, int]:
    """Re-encrypt every signing secret not under the newest encryption key (registered with
    `kernel.crypto.sealed_register`, so `reencrypt_secrets` runs it); (re-encrypted, failed).
    Endpoints being changed right now are skipped and picked up by the next run; each new
    ciphertext is proven before it replaces the old one."""
    target = crypto.current_key_id()
    done = failed = 0
    for endpoint in Endpoint.objects.exclude(secret_key_id=target).select_for_update(skip_locked=True):
        try:
            secret = crypto.decrypt(endpoint.secret_ciphertext, key_id=endpoint.secret_key_id, binding=endpoint.binding)
        except crypto.DecryptionError as exc:
            failed += 1
            logger.error("webhook endpoint %s: signing secret not re-encrypted: %s", endpoint.public_id, exc)
            continue
        ciphertext, key_id = crypto.encrypt(secret, binding=endpoint.binding)
        if crypto.decrypt(ciphertext, key_id=key_id, binding=endpoint.binding) != secret:
            raise RuntimeError("re-encryption self-check failed; nothing was saved")
        Endpoint.objects.filter(pk=endpoint.pk).update(secret_ciphertext=ciphertext, secret_key_id=key_id)
        done += 1
    return done, failed
