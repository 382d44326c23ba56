from django.db import models
from django.db.models import Q, TextField, Value
from django.db.models.functions import Coalesce

from apikeys.models import ApiKey, ApiSecret, live_secret_q, tokens_valid_q


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

    def with_granted(self) -> "AccessTokenQuerySet":
        """Annotated with `granted`: the granted scope names, space-separated, from the token's
        scope set (or, for a row from before scope sets, its own copy)."""
        return self.annotate(granted=Coalesce("scope_set__names", "scopes", Value(""), output_field=TextField()))


class ScopeSet(models.Model):
    """A set of granted scope names, stored once and shared by every token granted exactly
    that set (`oauth.scopesets`): a token row refers to it by id instead of copying the names
    (the Emporix API key's 174 names are 4 KB). The id is derived from the names (the first
    8 bytes of their SHA-256, signed), so any process computes it without a query; a row is
    never changed and never deleted."""

    id = models.BigIntegerField(primary_key=True)
    names = models.TextField(help_text="Scope names, space-separated, in the order granted.")

    def __str__(self) -> str:
        return f"scope set {self.id} ({len(self.names.split())} scopes)"


class AccessToken(models.Model):
    """An issued bearer token. Only SHA-256 digests of the token (and of the refresh token of
    an anonymous session) are stored; the plaintext is shown once, in the token response.

    A row is a few fixed-size columns (docs/token-storage.md): the granted scopes are a
    ScopeSet, and the row carries only the indexes the hot paths and the purge read. On
    PostgreSQL the digests are looked up through hash indexes and the expiry through a BRIN
    index (migration 0005), which Django's model state does not describe; other databases get
    plain indexes. The tenant is the key's (a token row does not repeat it); the key and the
    secret are referred to without a constraint or an index of their own: nothing reads tokens by them on a hot path, and deleting a key, a secret or
    a tenant leaves its tokens inert (`active()` joins the live secret) until the purge takes
    them at their expiry, instead of a delete that would scan every token."""

    digest = models.BinaryField(max_length=32, editable=False)
    refresh_digest = models.BinaryField(max_length=32, null=True, blank=True, editable=False)
    key = models.ForeignKey(
        ApiKey, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="tokens"
    )
    secret = models.ForeignKey(
        ApiSecret, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="tokens"
    )
    kind = models.CharField(max_length=16, choices=TokenKind.choices, default=TokenKind.SERVICE)
    scope_set = models.ForeignKey(
        ScopeSet, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, null=True, related_name="+"
    )
    # Before scope sets a row copied the names; `manage.py intern_token_scopes` moves such rows
    # to a scope set (the column is then NULL, which costs a bit of the row's null bitmap).
    scopes = models.TextField(null=True, blank=True, help_text="Granted scopes of a row from before scope sets.")
    session_id = models.UUIDField(null=True, blank=True, default=None)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
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
