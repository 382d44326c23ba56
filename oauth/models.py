from django.db import models
from django.db.models import Q

from apikeys.models import ApiKey, ApiSecret, live_secret_q, tokens_valid_q
from tenants.models import Tenant


class TokenKind(models.TextChoices):
    SERVICE = "service", "Client credentials"
    ANONYMOUS = "anonymous", "Storefront anonymous"


class AccessTokenQuerySet(models.QuerySet["AccessToken"]):
    def active(self, now) -> "AccessTokenQuerySet":
        """Tokens that authorize now: not revoked, not expired, minted by a secret that is
        still live (its key neither disabled nor expired) and not from before the key was
        last enabled again. The rule is what makes "renew now", retiring a grace secret,
        disabling and deleting a key deactivate tokens on every worker without bookkeeping."""
        return self.filter(
            live_secret_q(now, via="secret__"), tokens_valid_q(), revoked_at__isnull=True, expires_at__gt=now
        )


class AccessToken(models.Model):
    """An issued bearer token. Only SHA-256 digests of the token (and of the refresh token of
    an anonymous session) are stored; the plaintext is shown once, in the token response."""

    digest = models.BinaryField(max_length=32, unique=True, editable=False)
    refresh_digest = models.BinaryField(max_length=32, unique=True, null=True, blank=True, editable=False)
    key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="tokens")
    secret = models.ForeignKey(ApiSecret, on_delete=models.CASCADE, related_name="tokens")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="tokens")
    kind = models.CharField(max_length=16, choices=TokenKind.choices, default=TokenKind.SERVICE)
    scopes = models.TextField(blank=True, help_text="Granted scopes, space-separated.")
    session_id = models.UUIDField(null=True, blank=True, default=None)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    refresh_expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = AccessTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at"]

    def __str__(self) -> str:
        return f"{self.kind} token {self.pk} of key {self.key_id}"


class SigningKeyState(models.TextChoices):
    NEXT = "next", "Next (published, not signing yet)"
    ACTIVE = "active", "Active (signing)"
    RETIRED = "retired", "Retired (published until its tokens expire)"


class SigningKey(models.Model):
    """A key that signs JWT access tokens (oauth.signing). Its public JWK is published at
    /.well-known/jwks.json from creation until `publish_until` (set when it is retired); the
    private JWK is stored only encrypted under the portal's encryption keys (bound to this
    kid, like a secret to its row) and is never shown: not in the admin, a page or a log."""

    kid = models.CharField(max_length=64, unique=True, editable=False)
    algorithm = models.CharField(max_length=16, default="EdDSA", editable=False)
    state = models.CharField(max_length=8, choices=SigningKeyState.choices)
    public_jwk = models.JSONField(editable=False)
    ciphertext = models.BinaryField(editable=False)
    encryption_key_id = models.CharField(max_length=32, editable=False)
    created_at = models.DateTimeField(editable=False, help_text="Published since.")
    activated_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    publish_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One key signs and at most one waits, so that concurrent processes agree.
            models.UniqueConstraint(fields=["state"], condition=Q(state="active"), name="signingkey_one_active"),
            models.UniqueConstraint(fields=["state"], condition=Q(state="next"), name="signingkey_one_next"),
        ]

    def __str__(self) -> str:
        return f"signing key {self.kid} ({self.state})"

    @property
    def binding(self) -> str:
        """What the ciphertext is bound to (its associated data)."""
        return f"signingkey:{self.kid}"


class RevokedJwt(models.Model):
    """A revoked JWT access token, by jti, kept until the token would have expired anyway
    (`purge_tokens` deletes it then). JWTs are otherwise not stored at all."""

    jti = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"revoked JWT {self.jti}"
