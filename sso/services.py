"""The actions of single sign-on, one transaction each: configure a tenant's provider, require
it, claim and prove e-mail domains, and turn a sign-in through the provider into a membership
with the role the provider's groups give. Each writes an activity entry; none records a secret."""

import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import User
from activity.audit import SYSTEM, Audit
from activity.models import Action
from activity.services import activity_record
from kernel import crypto
from tenants.grants import SYSTEM_POWERS
from tenants.models import Membership, Role, Tenant
from tenants.services import LastAdminError, member_change_role, member_remove

from .models import ClaimedDomain, Connection, Protocol, ScimToken, ScimUser

logger = logging.getLogger(__name__)

# The fields of a connection an admin sets (the client secret aside), in the activity's words.
SETTINGS_FIELDS = (
    "protocol",
    "is_enabled",
    "issuer_url",
    "client_id",
    "scopes",
    "saml_metadata_url",
    "saml_metadata_xml",
    "saml_entity_id",
    "email_claim",
    "groups_claim",
    "admin_groups",
    "developer_groups",
    "viewer_groups",
    "default_role",
    "mfa_policy",
    "mfa_acr_values",
)


def connection_secret(connection: Connection) -> str:
    """The client secret, decrypted to talk to the provider; raises crypto.DecryptionError."""
    return crypto.decrypt(connection.secret_ciphertext, key_id=connection.secret_key_id, binding=connection.binding)


def _seal(connection: Connection, secret: str) -> None:
    connection.secret_ciphertext, connection.secret_key_id = crypto.encrypt(secret, binding=connection.binding)


@transaction.atomic
def connection_save(*, tenant: Tenant, audit: Audit, settings: dict[str, Any], secret: str | None) -> Connection:
    """Create or change the tenant's identity provider. `secret` None keeps the stored client
    secret (required when there is none yet). Recorded with the names of what changed, and
    whether the secret did, never its value."""
    connection = Connection.objects.select_for_update().filter(tenant=tenant).first()
    created = connection is None
    if created:
        connection = Connection(tenant=tenant)
    if settings.get("protocol", connection.protocol) == Protocol.OIDC and not secret and not connection.secret_key_id:
        raise ValueError("an OpenID Connect connection needs its client secret")
    changed = {
        name: {"from": getattr(connection, name), "to": value}
        for name, value in settings.items()
        if name in SETTINGS_FIELDS and (created or getattr(connection, name) != value)
    }
    for name, value in settings.items():
        if name in SETTINGS_FIELDS:
            setattr(connection, name, value)
    if secret:
        _seal(connection, secret)
    if not changed and not secret:
        return connection
    connection.updated_at = timezone.now()
    connection.save()
    details: dict[str, Any] = {name: change["to"] if created else change for name, change in changed.items()}
    if "saml_metadata_xml" in details:
        # The document itself is long and public: the entry says that it changed.
        if connection.saml_metadata_xml:
            details["saml_metadata_xml"] = "read" if created else "replaced"
        else:
            del details["saml_metadata_xml"]
    if secret and not created:
        details["client_secret"] = "replaced"
    action = Action.SSO_CONFIGURED if created else Action.SSO_CHANGED
    activity_record(tenant=tenant, action=action, audit=audit, details=details)
    return connection


@transaction.atomic
def enforcement_set(*, tenant: Tenant, audit: Audit, required: bool, exempt_user_ids: set[int]) -> None:
    """Whether the tenant's members must sign in through its provider, and who is exempt
    (break-glass admins: only admins can be). Recorded only when something changes."""
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    admins = Membership.objects.filter(tenant=tenant, role=Role.ADMIN)
    exempt_ids = set(admins.filter(user_id__in=exempt_user_ids).values_list("user_id", flat=True))
    before = set(Membership.objects.filter(tenant=tenant, sso_exempt=True).values_list("user_id", flat=True))
    if tenant.sso_required == required and before == exempt_ids:
        return
    emails = dict(User.objects.filter(pk__in=before | exempt_ids).values_list("pk", "email"))
    Membership.objects.filter(tenant=tenant).exclude(user_id__in=exempt_ids).update(sso_exempt=False)
    Membership.objects.filter(tenant=tenant, user_id__in=exempt_ids).update(sso_exempt=True)
    details: dict[str, Any] = {"exempt": sorted(emails[pk] for pk in exempt_ids)}
    if tenant.sso_required != required:
        Tenant.objects.filter(pk=tenant.pk).update(sso_required=required)
        details["required"] = {"from": tenant.sso_required, "to": required}
    activity_record(tenant=tenant, action=Action.SSO_ENFORCEMENT_CHANGED, audit=audit, details=details)


class DomainError(ValueError):
    """A domain that cannot be claimed or proved; the message is for the admin."""


@transaction.atomic
def domain_claim(*, tenant: Tenant, audit: Audit, domain: str) -> ClaimedDomain:
    """Claim `domain` (already normalised by the form) for the tenant, unproved, with a fresh
    token for its TXT record. A domain another tenant proved cannot be claimed."""
    if ClaimedDomain.objects.filter(domain=domain, verified_at__isnull=False).exclude(tenant=tenant).exists():
        raise DomainError(gettext("%(domain)s is already proved by another tenant.") % {"domain": domain})
    claimed, created = ClaimedDomain.objects.get_or_create(
        tenant=tenant, domain=domain, defaults={"token": crypto.generate_nonce()}
    )
    if not created:
        raise DomainError(gettext("%(domain)s is already claimed by this tenant.") % {"domain": domain})
    activity_record(tenant=tenant, action=Action.SSO_DOMAIN_CLAIMED, audit=audit, details={"domain": domain})
    return claimed


@transaction.atomic
def domain_verified(*, claimed: ClaimedDomain, audit: Audit, proof: str) -> ClaimedDomain:
    """Mark the domain proved (`proof`: ClaimedDomain.Proof). Refused if another tenant proved
    it meanwhile (the database's unique constraint is the last word)."""
    claimed = ClaimedDomain.objects.select_for_update().select_related("tenant").get(pk=claimed.pk)
    if claimed.is_verified:
        return claimed
    taken = ClaimedDomain.objects.filter(domain=claimed.domain, verified_at__isnull=False).exclude(pk=claimed.pk)
    if taken.exists():
        raise DomainError(gettext("%(domain)s is already proved by another tenant.") % {"domain": claimed.domain})
    claimed.verified_at = timezone.now()
    claimed.verified_by = proof
    claimed.save(update_fields=["verified_at", "verified_by"])
    activity_record(
        tenant=claimed.tenant,
        action=Action.SSO_DOMAIN_VERIFIED,
        audit=audit,
        details={"domain": claimed.domain, "proof": proof},
    )
    return claimed


@transaction.atomic
def domain_remove(*, claimed: ClaimedDomain, audit: Audit) -> None:
    activity_record(
        tenant=claimed.tenant, action=Action.SSO_DOMAIN_REMOVED, audit=audit, details={"domain": claimed.domain}
    )
    claimed.delete()


@dataclass(frozen=True)
class Admission:
    """What the provider's answer means for one person in one tenant."""

    email: str
    groups: list[str]
    role: str | None  # None: the provider's groups give no access
    mfa: bool  # the provider vouched for a second factor and the tenant trusts it


def sso_login_refuse(*, tenant: Tenant, audit: Audit, reason: str, email: str = "") -> None:
    """Record a refused sign-in (what went wrong in fixed words; the e-mail only when the
    provider had vouched for it)."""
    details = {"reason": reason}
    if email:
        details["email"] = email
    activity_record(tenant=tenant, action=Action.SSO_LOGIN_REFUSED, audit=audit, details=details)


@transaction.atomic
def sso_access_withdraw(*, tenant: Tenant, user: User, audit: Audit) -> bool:
    """The provider no longer admits `user` to the tenant: their membership goes (the tenant
    keeps its last admin). Returns whether it went."""
    membership = Membership.objects.filter(tenant=tenant, user=user).first()
    if membership is None:
        return False
    try:
        member_remove(membership=membership, audit=audit, grantor=SYSTEM_POWERS)
    except LastAdminError:
        logger.warning("sso: %s kept as the last admin of %s", user.pk, tenant.code)
        return False
    return True


@transaction.atomic
def sso_login_admit(*, tenant: Tenant, user: User, admission: Admission, audit: Audit) -> Membership:
    """A sign-in through the tenant's provider succeeded: make `user` a member with the role the
    groups give (first login), or move their role to it (every later login, demotion
    included; the tenant keeps its last admin). Records the login, with the role it left."""
    assert admission.role is not None
    membership, created = Membership.objects.get_or_create(user=user, tenant=tenant, defaults={"role": admission.role})
    details: dict[str, Any] = {"email": user.email, "groups": admission.groups, "role": admission.role}
    if created:
        activity_record(
            tenant=tenant,
            action=Action.MEMBER_PROVISIONED,
            audit=_by_mapping(audit),
            details={"email": user.email, "role": admission.role, "groups": admission.groups},
        )
    elif membership.role != admission.role:
        try:
            membership = member_change_role(
                membership=membership, role=admission.role, audit=_by_mapping(audit), grantor=SYSTEM_POWERS
            )
        except LastAdminError:
            details["role"] = membership.role
            details["kept"] = "last admin: not demoted"
    details["mfa_from_provider"] = admission.mfa
    activity_record(tenant=tenant, action=Action.SSO_LOGIN, audit=audit, details=details)
    return membership


def _by_mapping(audit: Audit) -> Audit:
    """The system acting (group mapping), from the address of the sign-in that caused it."""
    return Audit(address=audit.address) if audit.address else SYSTEM


def connection_secret_key_counts() -> dict[str, int]:
    """Client secrets per encryption key id (kernel.crypto.sealed_register)."""
    sealed = Connection.objects.exclude(secret_key_id="")
    return dict(sealed.order_by().values_list("secret_key_id").annotate(count=Count("id")))


def connection_secret_opens(key_id: str) -> bool | None:
    connection = Connection.objects.filter(secret_key_id=key_id).first()
    if connection is None:
        return None
    return crypto.opens(connection.secret_ciphertext, key_id=key_id, binding=connection.binding)


@transaction.atomic
def connection_secrets_reencrypt() -> tuple[int, int]:
    """Re-encrypt every client secret not under the newest encryption key (reencrypt_secrets
    runs it); (re-encrypted, failed). Each new ciphertext is proven before it is saved."""
    target = crypto.current_key_id()
    done = failed = 0
    sealed = Connection.objects.exclude(secret_key_id="").exclude(secret_key_id=target)
    for connection in sealed.select_for_update(skip_locked=True):
        try:
            secret = connection_secret(connection)
        except crypto.DecryptionError as exc:
            failed += 1
            logger.error("sso of tenant %s: client secret not re-encrypted: %s", connection.tenant_id, exc)
            continue
        ciphertext, key_id = crypto.encrypt(secret, binding=connection.binding)
        if crypto.decrypt(ciphertext, key_id=key_id, binding=connection.binding) != secret:
            raise RuntimeError("re-encryption self-check failed; nothing was saved")
        Connection.objects.filter(pk=connection.pk).update(secret_ciphertext=ciphertext, secret_key_id=key_id)
        done += 1
    return done, failed


# --- SCIM 2.0 provisioning --------------------------------------------------------------------
SCIM_TOKEN_PREFIX = "pscim_"


@transaction.atomic
def scim_token_issue(*, tenant: Tenant, audit: Audit) -> str:
    """A new bearer token for the tenant's SCIM endpoint, replacing any earlier one. Returned
    once, to show; stored as its digest. Recorded without its value."""
    token = crypto.generate_token(SCIM_TOKEN_PREFIX)
    replaced = ScimToken.objects.filter(tenant=tenant).delete()[0] > 0
    ScimToken.objects.create(tenant=tenant, digest=crypto.digest(token))
    activity_record(
        tenant=tenant,
        action=Action.SSO_CHANGED,
        audit=audit,
        details={"scim_token": "replaced" if replaced else "issued"},
    )
    return token


@transaction.atomic
def scim_token_revoke(*, tenant: Tenant, audit: Audit) -> None:
    if ScimToken.objects.filter(tenant=tenant).delete()[0]:
        activity_record(tenant=tenant, action=Action.SSO_CHANGED, audit=audit, details={"scim_token": "revoked"})


def scim_tenant_for(token: str) -> Tenant | None:
    """The tenant whose SCIM token this is (looked up by digest: the digest of a 256-bit
    token is as unguessable as the token), marked used."""
    if not token.startswith(SCIM_TOKEN_PREFIX):
        return None
    found = ScimToken.objects.select_related("tenant").filter(digest=crypto.digest(token)).first()
    if found is None or found.tenant.deactivated_at is not None:
        return None
    ScimToken.objects.filter(pk=found.pk).update(last_used_at=timezone.now())
    return found.tenant


class ScimConflict(ValueError):
    """The tenant already provisions someone with that address."""


def _scim_role(tenant: Tenant) -> str:
    """The role of a member the provider adds over SCIM: the connection's default role, else
    viewer (groups, which SCIM does not carry here, move it at their next sign-in)."""
    connection = Connection.objects.filter(tenant=tenant).first()
    return (connection.default_role if connection else "") or Role.VIEWER


@transaction.atomic
def scim_user_create(*, tenant: Tenant, audit: Audit, email: str, external_id: str, active: bool) -> ScimUser:
    """Provision a person: their account (made without a password if there is none) and, when
    active, a membership with the default role. Only addresses of domains the tenant proved."""
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=None)
    elif ScimUser.objects.filter(tenant=tenant, user=user).exists():
        raise ScimConflict(email)
    scim_user = ScimUser.objects.create(tenant=tenant, user=user, external_id=external_id, active=active)
    if active:
        _scim_admit(tenant=tenant, user=user, audit=audit)
    return scim_user


def _scim_admit(*, tenant: Tenant, user: User, audit: Audit) -> None:
    role = _scim_role(tenant)
    _, created = Membership.objects.get_or_create(user=user, tenant=tenant, defaults={"role": role})
    if created:
        activity_record(
            tenant=tenant,
            action=Action.MEMBER_PROVISIONED,
            audit=audit,
            details={"email": user.email, "role": role, "by": "scim"},
        )


@transaction.atomic
def scim_user_set_active(
    *, scim_user: ScimUser, audit: Audit, active: bool, external_id: str | None = None
) -> ScimUser:
    """Activate (a membership with the default role, if there is none) or deactivate (the
    membership removed; the tenant keeps its last admin) a provisioned person."""
    scim_user = ScimUser.objects.select_for_update().select_related("tenant", "user").get(pk=scim_user.pk)
    if external_id is not None:
        scim_user.external_id = external_id
    if active and not scim_user.active:
        _scim_admit(tenant=scim_user.tenant, user=scim_user.user, audit=audit)
    elif not active and scim_user.active:
        sso_access_withdraw(tenant=scim_user.tenant, user=scim_user.user, audit=audit)
    scim_user.active = active
    scim_user.updated_at = timezone.now()
    scim_user.save(update_fields=["active", "external_id", "updated_at"])
    return scim_user
