"""A tenant's single sign-on: its identity provider (OpenID Connect or SAML 2.0) and the e-mail
domains it claims. The OpenID Connect client secret is stored only encrypted (kernel.crypto,
bound to this row); a SAML provider needs no secret, only its public metadata."""

import uuid

from allauth.socialaccount.models import SocialApp
from django.db import models
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy

from tenants.models import Role, Tenant


class MfaPolicy(models.TextChoices):
    PORTAL = "portal", gettext_lazy("Ask for the portal's own second factor as well")
    PROVIDER = "provider", gettext_lazy("Trust the provider's multi-factor claims (amr, acr)")


class Protocol(models.TextChoices):
    OIDC = "oidc", "OpenID Connect"
    SAML = "saml", "SAML 2.0"


class Connection(models.Model):
    """How a tenant's members sign in through its identity provider (OpenID Connect with
    discovery, or SAML 2.0 with the IdP's metadata), and how what the provider says of them
    becomes a membership and a role. The claim fields name SAML attributes for a SAML provider."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="sso")
    protocol = models.CharField(max_length=8, choices=Protocol.choices, default=Protocol.OIDC)
    is_enabled = models.BooleanField("sign-in through the provider is on", default=True)
    # OpenID Connect.
    issuer_url = models.URLField("issuer URL", max_length=500, blank=True)
    client_id = models.CharField("client ID", max_length=255, blank=True)
    secret_ciphertext = models.BinaryField(editable=False, default=b"")
    secret_key_id = models.CharField(max_length=32, editable=False, blank=True)
    scopes = models.CharField(max_length=300, default="openid email profile", blank=True)
    # SAML 2.0: the IdP's metadata as last read (from its URL when there is one, when saved),
    # and the entity it describes.
    saml_metadata_url = models.URLField("IdP metadata URL", max_length=500, blank=True)
    saml_metadata_xml = models.TextField("IdP metadata XML", blank=True)
    saml_entity_id = models.CharField("IdP entity ID", max_length=500, blank=True)
    email_claim = models.CharField("e-mail claim", max_length=200, default="email")
    groups_claim = models.CharField("groups claim", max_length=200, default="groups", blank=True)
    # Group names (one per line in the form) that give each role; the highest role wins.
    admin_groups = models.JSONField(default=list, blank=True)
    developer_groups = models.JSONField(default=list, blank=True)
    viewer_groups = models.JSONField(default=list, blank=True)
    # The role of someone in none of those groups; empty: such a person gets no access.
    default_role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER, blank=True)
    mfa_policy = models.CharField(max_length=16, choices=MfaPolicy.choices, default=MfaPolicy.PORTAL)
    # acr values (SAML: AuthnContextClassRef) that count as multi-factor, beside the amr methods
    # in sso.claims.MFA_AMR.
    mfa_acr_values = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return f"SSO of {self.tenant.code}"

    @property
    def is_saml(self) -> bool:
        return self.protocol == Protocol.SAML

    @property
    def binding(self) -> str:
        """What the client secret's ciphertext is bound to: this tenant's connection."""
        return f"sso:{self.tenant_id}"

    @property
    def provider_id(self) -> str:
        """The id of the tenant's app in allauth (its URLs and its SocialAccount rows)."""
        return provider_id_for(self.tenant.code)


PROVIDER_PREFIX = "sso-"


def provider_id_for(code: str) -> str:
    return f"{PROVIDER_PREFIX}{code}"


class ClaimedDomain(models.Model):
    """An e-mail domain a tenant says is its own. Until proved (a DNS TXT record holding the
    token, or an operator's confirmation) it does nothing; once proved, an e-mail address of
    it leads to the tenant's provider, and only its addresses are let in by that provider."""

    class Proof(models.TextChoices):
        DNS = "dns", gettext_lazy("DNS TXT record")
        OPERATOR = "operator", gettext_lazy("Confirmed by an operator")

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="sso_domains")
    domain = models.CharField(max_length=253)
    token = models.CharField(max_length=64, editable=False)
    verified_at = models.DateTimeField(null=True, blank=True, editable=False)
    verified_by = models.CharField(max_length=16, choices=Proof.choices, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["domain"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "domain"], name="sso_domain_once_per_tenant"),
            # A proved domain belongs to one tenant.
            models.UniqueConstraint(
                fields=["domain"], condition=models.Q(verified_at__isnull=False), name="sso_domain_proved_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.domain} ({self.tenant.code})"

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    @property
    def txt_record(self) -> str:
        """The TXT record that proves the domain: at `_portal-sso.<domain>`."""
        return f"portal-sso-verification={self.token}"

    @property
    def txt_name(self) -> str:
        return f"_portal-sso.{self.domain}"


class SamlApp(SocialApp):
    """A tenant's SAML app in allauth, built unsaved from its Connection (sso.adapter), whose
    provider also keeps what the assertion says of the login itself (sso.saml.TenantSamlProvider):
    allauth's keeps the attributes only."""

    class Meta:
        proxy = True

    def get_provider(self, request: HttpRequest):
        from .saml import TenantSamlProvider

        return TenantSamlProvider(request=request, app=self)


class ScimToken(models.Model):
    """The bearer token of a tenant's SCIM 2.0 endpoint, which its identity provider uses to
    add and deactivate members. Stored as its SHA-256 digest only (kernel.crypto.digest); one
    per tenant, a new one replaces it."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="scim_token")
    digest = models.BinaryField(unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    def __str__(self) -> str:
        return f"SCIM token of {self.tenant.code}"


class ScimUser(models.Model):
    """A person as the tenant's identity provider provisions them over SCIM: the resource the
    provider addresses by `public_id`. Active, the person is a member of the tenant; deactivated,
    the membership is gone and the row stays (the provider may look it up, or activate it again)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="scim_users")
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="scim_users")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    external_id = models.CharField(max_length=255, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="scim_user_once_per_tenant")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.tenant.code}"
