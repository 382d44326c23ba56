import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from scopes.models import Scope
from tenants.models import Tenant


class KeyKind(models.TextChoices):
    EMPORIX = "emporix", "Emporix API"
    STOREFRONT = "storefront", "Storefront API"
    CUSTOM = "custom", "Custom API"


BUILTIN_KINDS = (KeyKind.EMPORIX, KeyKind.STOREFRONT)


class ApiKey(models.Model):
    """A tenant's API key: a Client ID plus one current secret (and, after a renew with a
    grace period, old secrets that still work until they expire)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="apikeys")
    kind = models.CharField(max_length=16, choices=KeyKind.choices)
    name = models.CharField(max_length=64)
    client_id = models.CharField("Client ID", max_length=32, unique=True, editable=False)
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Only custom keys hold chosen scopes; the built-in kinds derive theirs from the catalogue
    # (see scope_queryset), so a scope added to the catalogue later is included at once.
    scopes = models.ManyToManyField(Scope, blank=True, related_name="apikeys")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    renewed_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["tenant", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="apikey_name_unique_in_tenant"),
            models.UniqueConstraint(
                fields=["tenant", "kind"],
                condition=Q(kind__in=["emporix", "storefront"]),
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

    @property
    def is_builtin(self) -> bool:
        return self.kind in BUILTIN_KINDS

    def scope_queryset(self) -> models.QuerySet[Scope]:
        """The scopes this key holds: every offered scope for the Emporix API key, the
        storefront set for the Storefront API key, the chosen ones for a custom key."""
        if self.kind == KeyKind.EMPORIX:
            return Scope.objects.offered()
        if self.kind == KeyKind.STOREFRONT:
            return Scope.objects.offered().filter(storefront=True)
        return self.scopes.all()


class ApiSecretQuerySet(models.QuerySet["ApiSecret"]):
    def live(self, now=None) -> "ApiSecretQuerySet":
        """Secrets that authenticate now: the current one and unexpired old ones."""
        now = now or timezone.now()
        return self.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


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
