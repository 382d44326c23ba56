import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone

from scopes.models import Scope
from tenants.models import Tenant


class KeyKind(models.TextChoices):
    EMPORIX = "emporix", "Emporix API"
    STOREFRONT = "storefront", "Storefront API"
    CUSTOM = "custom", "Custom API"


class TokenFormat(models.TextChoices):
    """The access tokens a key's client-credentials grant issues. DEFAULT follows the
    deployment's ACCESS_TOKEN_FORMAT; the token service reads the choice."""

    DEFAULT = "", "Deployment default"
    OPAQUE = "opaque", "Opaque"
    JWT = "jwt", "JWT (RFC 9068)"


# The built-in kinds: one key of each per tenant, named after the kind's label.
BUILTIN_KINDS = (KeyKind.EMPORIX, KeyKind.STOREFRONT)


@dataclass(frozen=True)
class GracePeriod:
    """How long an old secret keeps working after a renew, as offered to admins."""

    value: str
    label: str
    duration: timedelta | None  # None: it stops at once
    help: str


def _keeps_working(label: str) -> str:
    return f"The old secret keeps working for {label}, so that clients can switch."


GRACE_PERIODS = (
    GracePeriod(
        "now",
        "Now",
        None,
        "The old secret stops working at once, and every access token issued by this key stops working too.",
    ),
    GracePeriod("1h", "After 1 hour", timedelta(hours=1), _keeps_working("1 hour")),
    GracePeriod("24h", "After 24 hours", timedelta(hours=24), _keeps_working("24 hours")),
    GracePeriod("7d", "After 7 days", timedelta(days=7), _keeps_working("7 days")),
)


def live_secret_q(now: datetime, via: str = "") -> Q:
    """The one rule for a secret that still authenticates: the current one (no expiry) or an
    old one whose grace period has not ended. `via` is the path to the secret from the model
    queried (e.g. "secret__" from an access token)."""
    return Q(**{f"{via}expires_at__isnull": True}) | Q(**{f"{via}expires_at__gt": now})


class ApiKey(models.Model):
    """A tenant's API key: a Client ID plus one current secret (and, after a renew with a
    grace period, old secrets that still work until they expire)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="apikeys")
    kind = models.CharField(max_length=16, choices=KeyKind.choices)
    name = models.CharField(max_length=64)
    client_id = models.CharField("Client ID", max_length=32, unique=True, editable=False)
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Only custom keys hold chosen scopes; the built-in kinds derive theirs from the catalogue
    # (apikeys.auth.held_scope_names), so a scope added to the catalogue later is included at once.
    scopes = models.ManyToManyField(Scope, blank=True, related_name="apikeys")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    renewed_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # Settable for custom keys in the portal; the built-in keys follow the deployment.
    token_format = models.CharField(
        "Access tokens", max_length=8, choices=TokenFormat.choices, default=TokenFormat.DEFAULT, blank=True
    )

    class Meta:
        ordering = ["tenant", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="apikey_name_unique_in_tenant"),
            models.UniqueConstraint(
                fields=["tenant", "kind"],
                condition=Q(kind__in=BUILTIN_KINDS),
                name="apikey_one_builtin_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"

    @property
    def is_custom(self) -> bool:
        return self.kind == KeyKind.CUSTOM

    @property
    def is_storefront(self) -> bool:
        return self.kind == KeyKind.STOREFRONT


class ApiSecretQuerySet(models.QuerySet["ApiSecret"]):
    def live(self, now=None) -> "ApiSecretQuerySet":
        """Secrets that authenticate now: the current one and unexpired old ones."""
        return self.filter(live_secret_q(now or timezone.now()))


class ApiSecret(models.Model):
    """One secret of a key. The plaintext is never stored: `ciphertext` (AES-256-GCM, bound
    to this row and its key) lets the portal show it again, and `digest` (SHA-256) is what
    authentication compares. `expires_at` is null while the secret is the key's current one."""

    key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="secrets")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    ciphertext = models.BinaryField(editable=False)
    encryption_key_id = models.CharField(max_length=32, editable=False)
    digest = models.BinaryField(max_length=32, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ApiSecretQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["key"],
                condition=Q(expires_at__isnull=True),
                name="apisecret_one_current_per_key",
            ),
        ]
        indexes = [models.Index(fields=["key", "expires_at"], name="apisecret_key_expires")]

    def __str__(self) -> str:
        return f"secret {self.public_id} of {self.key_id}"

    @property
    def is_current(self) -> bool:
        return self.expires_at is None

    @property
    def binding(self) -> str:
        """What the ciphertext is bound to (its associated data): this row and its key."""
        return f"apisecret:{self.key.client_id}:{self.public_id}"


class EncryptionCanary(models.Model):
    """A known value sealed under one encryption key (apikeys.canary): lets every instance
    tell whether its configured keys are the ones the stored secrets were written with."""

    key_id = models.CharField(max_length=32, unique=True, editable=False)
    ciphertext = models.BinaryField(editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return f"canary of encryption key {self.key_id}"
