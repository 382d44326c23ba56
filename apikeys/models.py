import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy, ngettext

from kernel.choices import label_of
from scopes.models import Scope
from tenants.models import Tenant


class KeyKind(models.TextChoices):
    EMPORIX = "emporix", "Emporix API"
    STOREFRONT = "storefront", "Storefront API"
    CUSTOM = "custom", "Custom API"


class TokenFormat(models.TextChoices):
    """The access tokens a key's client-credentials grant issues. DEFAULT follows the
    deployment's ACCESS_TOKEN_FORMAT; the token service reads the choice."""

    DEFAULT = "", gettext_lazy("Deployment default")
    OPAQUE = "opaque", gettext_lazy("Opaque")
    JWT = "jwt", gettext_lazy("JWT (RFC 9068)")


class Environment(models.TextChoices):
    """What a key is used for, as its admins label it (metadata only: it changes nothing the
    key can do)."""

    NONE = "", gettext_lazy("None")
    PRODUCTION = "production", gettext_lazy("Production")
    STAGING = "staging", gettext_lazy("Staging")
    DEVELOPMENT = "development", gettext_lazy("Development")


class RatePeriod(models.TextChoices):
    """The window of a key's own rate limit (apikeys.limits)."""

    SECOND = "second", gettext_lazy("per second")
    MINUTE = "minute", gettext_lazy("per minute")


# The periods in English, for what is recorded (activity entries) and the API's messages: they
# do not follow the language of whoever made the change.
RATE_PERIOD_WORDS = {RatePeriod.SECOND: "per second", RatePeriod.MINUTE: "per minute"}


# Seconds in each window, and the highest limit an admin may set for it: above these a limit
# protects nothing (docs/keys.md, "Rate limit per key").
RATE_WINDOWS = {RatePeriod.SECOND: 1, RatePeriod.MINUTE: 60}
RATE_LIMIT_MAX = {RatePeriod.SECOND: 10_000, RatePeriod.MINUTE: 600_000}


# A key's free labels: lowercase slugs, at most MAX_LABELS of at most LABEL_MAX_LENGTH characters.
MAX_LABELS = 10
LABEL_MAX_LENGTH = 32
LABEL_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$"
DESCRIPTION_MAX_LENGTH = 500


def rate_limit_words(limit: int, period: str) -> str:
    """A rate limit as activity entries record it, in English: "100 requests per minute"."""
    noun = "request" if limit == 1 else "requests"
    return f"{limit:,} {noun} {RATE_PERIOD_WORDS[RatePeriod(period or RatePeriod.MINUTE)]}"


def rate_limit_shown(limit: int, period: str) -> str:
    """A rate limit as pages say it, in the page's language: "100 requests per minute"."""
    if RatePeriod(period or RatePeriod.MINUTE) == RatePeriod.SECOND:
        text = ngettext("%(count)s request per second", "%(count)s requests per second", limit)
    else:
        text = ngettext("%(count)s request per minute", "%(count)s requests per minute", limit)
    return text % {"count": number_format(limit, force_grouping=True)}


def labels_store(labels: "list[str] | tuple[str, ...]") -> str:
    """The labels as stored: sorted, each between spaces (" billing erp "), so that one label
    is found with a plain `contains " billing "` on every database; "" for none."""
    return f" {' '.join(sorted(set(labels)))} " if labels else ""


# The built-in kinds: one key of each per tenant, named after the kind's label.
BUILTIN_KINDS = (KeyKind.EMPORIX, KeyKind.STOREFRONT)


@dataclass(frozen=True)
class GracePeriod:
    """How long an old secret keeps working after a renew, as offered to admins."""

    value: str
    label: str
    duration: timedelta | None  # None: it stops at once
    help: str


GRACE_PERIODS = (
    GracePeriod(
        "now",
        gettext_lazy("Now"),
        None,
        gettext_lazy(
            "The old secret stops working at once, and every access token issued by this key stops working too."
        ),
    ),
    GracePeriod(
        "1h",
        gettext_lazy("After 1 hour"),
        timedelta(hours=1),
        gettext_lazy("The old secret keeps working for 1 hour, so that clients can switch."),
    ),
    GracePeriod(
        "24h",
        gettext_lazy("After 24 hours"),
        timedelta(hours=24),
        gettext_lazy("The old secret keeps working for 24 hours, so that clients can switch."),
    ),
    GracePeriod(
        "7d",
        gettext_lazy("After 7 days"),
        timedelta(days=7),
        gettext_lazy("The old secret keeps working for 7 days, so that clients can switch."),
    ),
)


def secret_unexpired_q(now: datetime, via: str = "") -> Q:
    """A secret within its own lifetime: the current one (no expiry) or an old one whose grace
    period has not ended. Says nothing about its key (see `live_secret_q`). `via` is the path
    to the secret from the model queried."""
    return Q(**{f"{via}expires_at__isnull": True}) | Q(**{f"{via}expires_at__gt": now})


def key_usable_q(now: datetime, via: str = "") -> Q:
    """A key that may authenticate: not disabled, not past its expiry date, and not past the
    date by which its secret had to be renewed (the tenant's maximum secret age)."""
    return (
        Q(**{f"{via}disabled_at__isnull": True})
        & (Q(**{f"{via}expires_at__isnull": True}) | Q(**{f"{via}expires_at__gt": now}))
        & (Q(**{f"{via}renew_by__isnull": True}) | Q(**{f"{via}renew_by__gt": now}))
    )


def live_secret_q(now: datetime, via: str = "") -> Q:
    """The one rule for a secret that authenticates now: within its own lifetime, and its key
    neither disabled nor expired. Used by the token check and by the access tokens' `active()`
    (a token works only while the secret that minted it is live). `via` is the path to the
    secret from the model queried (e.g. "secret__" from an access token)."""
    return secret_unexpired_q(now, via) & key_usable_q(now, via=f"{via}key__")


def tokens_valid_q(*, key: str = "key__", issued: str | datetime = "issued_at") -> Q:
    """Access tokens issued at or after their key's `tokens_not_before` (set when a disabled
    key is enabled again, so that its earlier tokens stay dead). `key` is the path to the key,
    `issued` the token's issue-time field, or the issue time itself (a JWT's iat)."""
    if isinstance(issued, datetime):
        return Q(**{f"{key}tokens_not_before__isnull": True}) | Q(**{f"{key}tokens_not_before__lte": issued})
    return Q(**{f"{key}tokens_not_before__isnull": True}) | Q(**{f"{issued}__gte": F(f"{key}tokens_not_before")})


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
    # Key hygiene: a disabled key authenticates nowhere but keeps its secrets; an expired one
    # (custom keys may have an expiry date) likewise. Tokens issued before `tokens_not_before`
    # stay inactive after the key is enabled again.
    disabled_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    tokens_not_before = models.DateTimeField(null=True, blank=True, editable=False)
    # The tenant's maximum secret age: the key stops working at this moment unless renewed
    # (a renew sets it again from the new secret's issue).
    renew_by = models.DateTimeField(null=True, blank=True, editable=False)
    # Seconds an access token of this (custom) key lives; None: the deployment's
    # ACCESS_TOKEN_LIFETIME. Bounded by ACCESS_TOKEN_LIFETIME_MAX when set.
    token_lifetime = models.PositiveIntegerField(null=True, blank=True)
    # CIDR networks, one per line (apikeys.networks); empty: any address.
    allowed_networks = models.TextField(blank=True, default="")
    # Web origins a browser page may use the key from, one per line (apikeys.origins); empty:
    # none (requests that carry a cross-site Origin header are refused, docs/cors.md).
    allowed_origins = models.TextField(blank=True, default="")
    # Settable for custom keys in the portal; the built-in keys follow the deployment.
    token_format = models.CharField(
        "Access tokens", max_length=8, choices=TokenFormat.choices, default=TokenFormat.DEFAULT, blank=True
    )
    # The key's own rate limit (apikeys.limits): at most `rate_limit` token requests and,
    # separately, gateway checks per `rate_limit_period`, across every instance; None: none.
    rate_limit = models.PositiveIntegerField(null=True, blank=True)
    rate_limit_period = models.CharField(
        max_length=8, choices=RatePeriod.choices, default=RatePeriod.MINUTE, blank=True
    )
    # Metadata (docs/keys.md, "What each key is for"): it changes nothing the key can do.
    description = models.CharField(max_length=DESCRIPTION_MAX_LENGTH, blank=True, default="")
    # A member of the tenant answerable for the key. Cleared when they leave the tenant
    # (apikeys.receivers) or their account is deleted.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    environment = models.CharField(max_length=16, choices=Environment.choices, default=Environment.NONE, blank=True)
    # Free labels as labels_store() writes them; read them as `label_list`.
    labels = models.CharField(max_length=(LABEL_MAX_LENGTH + 1) * MAX_LABELS + 1, blank=True, default="")

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
        # The keys list's sort orders, within a tenant's keys of a kind: a page of thousands
        # of keys is read in index order, not sorted whole.
        indexes = [
            models.Index(F("tenant"), F("kind"), Lower("name"), name="apikey_list_by_name"),
            models.Index(fields=["tenant", "kind", "created_at"], name="apikey_list_by_created"),
            # Never used first (and, read backwards, last), as the list sorts them.
            models.Index(
                F("tenant"), F("kind"), F("last_used_at").asc(nulls_first=True), name="apikey_list_by_last_used"
            ),
            # The management API's key pages: a tenant's keys in id order, from a cursor, without
            # reading past every other tenant's keys.
            models.Index(fields=["tenant", "id"], name="apikey_api_page"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"

    @property
    def label_list(self) -> list[str]:
        return self.labels.split()

    @property
    def is_custom(self) -> bool:
        return self.kind == KeyKind.CUSTOM

    @property
    def rate_limit_text(self) -> str:
        """The key's rate limit in words, in the page's language ("100 requests per minute"); "" for none."""
        if not self.rate_limit:
            return ""
        return rate_limit_shown(self.rate_limit, self.rate_limit_period)

    @property
    def is_storefront(self) -> bool:
        return self.kind == KeyKind.STOREFRONT

    @property
    def is_disabled(self) -> bool:
        return self.disabled_at is not None

    def is_expired(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return any(moment is not None and moment <= now for moment in (self.expires_at, self.renew_by))

    def is_dormant(self, now: datetime | None = None, tenant: Tenant | None = None) -> bool:
        """Enabled but unused (no secret of it used) for the tenant's dormant period, counted
        from its creation for a key never used. `tenant`: the key's, if the caller has it
        (else it is loaded)."""
        tenant = tenant or self.tenant
        last = self.last_used_at or self.created_at
        return self.disabled_at is None and last <= (now or timezone.now()) - timedelta(days=tenant.dormant_after_days)

    # Shown per row of the keys page (up to 5,000): kernel.choices.
    def get_kind_display(self) -> object:
        return label_of(KeyKind, self.kind)

    def get_environment_display(self) -> object:
        return label_of(Environment, self.environment)

    def get_token_format_display(self) -> object:
        return label_of(TokenFormat, self.token_format)


class ApiSecretQuerySet(models.QuerySet["ApiSecret"]):
    def live(self, now: datetime | None = None) -> "ApiSecretQuerySet":
        """Secrets within their own lifetime: the current one and old ones in their grace
        period, whatever the key's state (a disabled key keeps them)."""
        return self.filter(secret_unexpired_q(now or timezone.now()))

    def current(self) -> "ApiSecretQuerySet":
        """A key's current secret (no expiry; at most one per key)."""
        return self.filter(expires_at__isnull=True)

    def in_grace(self, now: datetime | None = None) -> "ApiSecretQuerySet":
        """Old secrets that still work after a renew: their grace period has not ended."""
        return self.filter(expires_at__gt=now or timezone.now())


class ApiSecret(models.Model):
    """One secret of a key. The plaintext is never stored: `ciphertext` (AES-256-GCM, bound
    to this row and its key) lets the portal show it again, and `digest` (SHA-256) is what
    authentication compares. `expires_at` is null while the secret is the key's current one."""

    key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="secrets")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    ciphertext = models.BinaryField(editable=False)
    encryption_key_id = models.CharField(max_length=32, editable=False)
    # Indexed for leaked-secret reports (apikeys.leaks), which look a secret up by digest alone.
    digest = models.BinaryField(max_length=32, editable=False, db_index=True)
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


class NetworkRefusal(models.Model):
    """Token requests with a key's right secret from outside its allowed networks, counted per
    key and hour instead of logged one by one. The first one of each hour also writes an
    activity entry (`entry`)."""

    key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="network_refusals")
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)
    first_address = models.CharField(max_length=64)
    last_address = models.CharField(max_length=64)
    entry = models.ForeignKey("activity.ActivityEntry", null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window_start"], name="networkrefusal_one_per_hour")]

    def __str__(self) -> str:
        return f"{self.count} refusals of key {self.key_id} from {self.window_start:%Y-%m-%d %H}:00"


class KeyReminder(models.Model):
    """A mail about a key that was sent, so that each is sent once: `kind` (expiry, renew_by,
    dormant), the moment it is about (`due_at`) and how many days before it was sent."""

    key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=16)
    due_at = models.DateTimeField()
    days_before = models.IntegerField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "kind", "due_at", "days_before"], name="keyreminder_once")
        ]

    def __str__(self) -> str:
        return f"{self.kind} reminder for key {self.key_id}, {self.days_before} days before {self.due_at:%Y-%m-%d}"
