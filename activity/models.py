from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy

from kernel.choices import label_of


class Action(models.TextChoices):
    TENANT_CREATED = "tenant.created", gettext_lazy("Tenant created")
    TENANT_POLICY_CHANGED = "tenant.policy_changed", gettext_lazy("Tenant policy changed")
    REAUTHENTICATED = "account.reauthenticated", gettext_lazy("Re-authenticated")
    KEY_CREATED = "key.created", gettext_lazy("Key created")
    SECRET_REVEALED = "secret.revealed", gettext_lazy("Secret revealed")
    SECRET_COPIED = "secret.copied", gettext_lazy("Secret copied")
    SECRET_UNREADABLE = "secret.unreadable", gettext_lazy("Secret could not be decrypted")
    KEY_RENEWED = "key.renewed", gettext_lazy("Key renewed")
    SECRET_RETIRED = "secret.retired", gettext_lazy("Old secret retired")
    KEY_CHANGED = "key.changed", gettext_lazy("Key changed")
    KEY_DELETED = "key.deleted", gettext_lazy("Key deleted")
    KEY_DISABLED = "key.disabled", gettext_lazy("Key disabled")
    KEY_ENABLED = "key.enabled", gettext_lazy("Key enabled")
    KEY_EXPIRY_CHANGED = "key.expiry_changed", gettext_lazy("Key expiry changed")
    KEY_EXPIRED = "key.expired", gettext_lazy("Key expired")
    KEY_NETWORKS_CHANGED = "key.networks_changed", gettext_lazy("Allowed networks changed")
    KEY_ORIGINS_CHANGED = "key.origins_changed", gettext_lazy("Allowed origins changed")
    SECRET_LEAKED = "secret.leaked", gettext_lazy("Secret reported leaked")
    KEY_NETWORK_REFUSED = "key.network_refused", gettext_lazy("Token requests refused: outside the allowed networks")
    KEY_TRIED = "key.tried", gettext_lazy("Token requested with Try it")
    MEMBER_ADDED = "member.added", gettext_lazy("Member added")
    MEMBER_CHANGED = "member.changed", gettext_lazy("Member role changed")
    MEMBER_REMOVED = "member.removed", gettext_lazy("Member removed")
    INVITATION_SENT = "invitation.sent", gettext_lazy("Invitation sent")
    INVITATION_RESENT = "invitation.resent", gettext_lazy("Invitation resent")
    INVITATION_CANCELLED = "invitation.cancelled", gettext_lazy("Invitation cancelled")
    INVITATION_ACCEPTED = "invitation.accepted", gettext_lazy("Invitation accepted")
    TENANT_DEACTIVATED = "tenant.deactivated", gettext_lazy("Tenant deactivated")
    SSO_CONFIGURED = "sso.configured", gettext_lazy("Single sign-on configured")
    SSO_CHANGED = "sso.changed", gettext_lazy("Single sign-on changed")
    SSO_ENFORCEMENT_CHANGED = "sso.enforcement_changed", gettext_lazy("Single sign-on requirement changed")
    SSO_DOMAIN_CLAIMED = "sso.domain_claimed", gettext_lazy("E-mail domain claimed")
    SSO_DOMAIN_VERIFIED = "sso.domain_verified", gettext_lazy("E-mail domain proved")
    SSO_DOMAIN_REMOVED = "sso.domain_removed", gettext_lazy("E-mail domain removed")
    SSO_LOGIN = "sso.login", gettext_lazy("Signed in through the identity provider")
    SSO_LOGIN_REFUSED = "sso.login_refused", gettext_lazy("Sign-in through the identity provider refused")
    MEMBER_PROVISIONED = "member.provisioned", gettext_lazy("Member added by single sign-on")


class ActivityEntry(models.Model):
    """Who did what to which key of a tenant, when and from where. Never holds a secret or
    a token. Names are copied in, so an entry still reads right after a key or user is gone."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="activity")
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A management API call's actor is the key whose token made it (actor_email then names it).
    actor_key = models.ForeignKey("apikeys.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_email = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=32, choices=Action.choices)
    key = models.ForeignKey("apikeys.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="activity")
    key_name = models.CharField(max_length=64, blank=True)
    key_client_id = models.CharField(max_length=32, blank=True)
    details = models.JSONField(default=dict, blank=True)
    ip_address = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = gettext_lazy("activity entries")
        indexes = [models.Index(fields=["tenant", "-created_at"], name="activity_tenant_recent")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_email} {self.action}"

    # Shown per row (the Activity page, the API, the CSV): kernel.choices.
    def get_action_display(self) -> object:
        return label_of(Action, self.action)
