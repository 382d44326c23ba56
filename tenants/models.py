import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy

# The one definition of a tenant code: 3 to 16 lowercase letters and digits, starting with a
# letter. The database check, the validator and the form's `pattern` attribute are built from it.
TENANT_CODE_PATTERN = "[a-z][a-z0-9]{2,15}"
TENANT_CODE_REGEX = f"^{TENANT_CODE_PATTERN}$"
validate_tenant_code = RegexValidator(
    rf"\A{TENANT_CODE_PATTERN}\Z",  # \Z: no trailing newline, unlike $
    gettext_lazy("A tenant code has 3 to 16 lowercase letters and digits and starts with a letter."),
    code="invalid_tenant_code",
)


class Tenant(models.Model):
    """A commerce tenant. Its code is its identity in URLs and tokens and never changes."""

    code = models.CharField(max_length=16, unique=True, validators=[validate_tenant_code], editable=False)
    name = models.CharField(gettext_lazy("display name"), max_length=100)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Members without a second factor see nothing of the tenant until they set one up.
    require_mfa = models.BooleanField(gettext_lazy("require two-factor authentication"), default=False)
    # Members must sign in through the tenant's identity provider (the sso app sets it): a
    # password or passkey login does not open the tenant, except for exempt members.
    sso_required = models.BooleanField(gettext_lazy("require single sign-on"), default=False, editable=False)
    # Key hygiene (apikeys/hygiene.py). Custom keys created from now on must expire within
    # this many days; every key's secret must be renewed within this many days of being issued
    # (renew resets the clock); keys unused this long are flagged dormant, and, if set,
    # disabled that many days later.
    key_max_lifetime_days = models.PositiveIntegerField(
        gettext_lazy("maximum lifetime of new custom keys (days)"), null=True, blank=True
    )
    secret_max_age_days = models.PositiveIntegerField(
        gettext_lazy("maximum age of secrets (days)"), null=True, blank=True
    )
    dormant_after_days = models.PositiveIntegerField(gettext_lazy("flag keys unused for (days)"), default=90)
    dormant_disable_after_days = models.PositiveIntegerField(
        gettext_lazy("then disable them after (more days)"), null=True, blank=True
    )

    # The operators' own tenant (api/operators.py): holds the operator keys, has no members and
    # is never listed or managed over the API.
    is_operator = models.BooleanField(default=False, editable=False)
    # Deactivated by an operator over the API: every key was disabled at that moment.
    deactivated_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=models.Q(code__regex=TENANT_CODE_REGEX), name="tenant_code_format")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Role(models.TextChoices):
    VIEWER = "viewer", gettext_lazy("Viewer")
    DEVELOPER = "developer", gettext_lazy("Developer")
    ADMIN = "admin", gettext_lazy("Admin")


ROLE_RANK = {Role.VIEWER: 0, Role.DEVELOPER: 1, Role.ADMIN: 2}


class Membership(models.Model):
    """A user's role in a tenant."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # When the user last opened this tenant: the portal returns there after login.
    last_visited_at = models.DateTimeField(null=True, blank=True)
    # A break-glass member: opens the tenant with the portal's own login even when the tenant
    # requires single sign-on (the sso app sets it).
    sso_exempt = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["tenant__code"]
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} is {self.get_role_display()} of {self.tenant.code}"

    def has_role(self, role: str) -> bool:
        """True if this membership's role is `role` or higher."""
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(role)]

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def can_see_secrets(self) -> bool:
        return self.has_role(Role.DEVELOPER)


class InvitationQuerySet(models.QuerySet):
    def pending(self) -> "InvitationQuerySet":
        """Invitations that can still be accepted."""
        return self.filter(expires_at__gt=timezone.now())


class Invitation(models.Model):
    """An invitation to join a tenant with a role, mailed to an e-mail address. The link's
    token is stored only as its SHA-256 digest; accepting or cancelling deletes the row, so a
    link works once at most."""

    class Inviter(models.TextChoices):
        """Who sent the invitation (or last resent it): accepting it checks what they may
        give now (tenants.grants.sender_powers)."""

        PERSON = "person", gettext_lazy("A member")
        KEY = "key", gettext_lazy("An API key")
        SYSTEM = "system", gettext_lazy("The system")  # an operator's command, a data migration, a test

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(gettext_lazy("e-mail address"), max_length=254)
    role = models.CharField(max_length=16, choices=Role.choices)
    inviter_kind = models.CharField(max_length=8, choices=Inviter.choices, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A management API key's invitation. A key or person deleted since leaves the kind set and
    # the reference empty: such an invitation can no longer be accepted.
    invited_by_key = models.ForeignKey(
        "apikeys.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Both change on a resend, which mails a new link.
    sent_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    token_digest = models.BinaryField(max_length=32, unique=True, editable=False)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "email"], name="invitation_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.email} invited to {self.tenant.code} as {self.get_role_display()}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()
