from datetime import timedelta
from smtplib import SMTPException
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from accounts.models import User
from activity.audit import SYSTEM, Audit
from activity.models import Action
from activity.services import activity_record
from kernel import crypto
from kernel.dates import human_datetime
from kernel.mail import html_from_text, mail_language, one_line

from .grants import SYSTEM_POWERS, Powers, RoleGrantRefused, role_grant_check, sender_powers
from .models import Invitation, Membership, Role, Tenant
from .signals import member_removed, tenant_created, tenant_deactivated, tenant_policy_changed

# What sending a mail raises when the server cannot be reached or refuses it.
MAIL_ERRORS = (SMTPException, OSError)
# Plain English (tests compare them); gettext() where they are shown or raised.
INVITATION_UNKNOWN = gettext_noop(
    "This invitation link does not work: it was used, cancelled or replaced by a newer mail."
)
INVITATION_EXPIRED = gettext_noop("This invitation has expired. Ask an admin of the tenant to send it again.")
INVITATION_UNBACKED = gettext_noop(
    "This invitation can no longer be accepted: whoever sent it can no longer give the {role} role. "
    "Ask an admin of the tenant to send it again."
)
# Characters of a tenant's display name shown in an invitation's subject and text.
TENANT_NAME_IN_MAIL = 60


def normalize_email(email: str) -> str:
    """The one form of an address that memberships and invitations are matched on."""
    return User.objects.normalize_email(email.strip()).lower()


def wrong_user_message(invitation: Invitation, user: User) -> str:
    return gettext(
        "This invitation is for %(invited)s, but you are logged in as %(email)s. Log out, then open the link again."
    ) % {"invited": invitation.email, "email": user.email}


@transaction.atomic
def tenant_deactivate(*, tenant: Tenant, audit: Audit = SYSTEM) -> Tenant:
    """Deactivate `tenant` (once: again is a no-op): every key of it is disabled at once, and the
    activity log says so. Returns the tenant as it is now."""
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    if tenant.deactivated_at is None:
        tenant.deactivated_at = timezone.now()
        tenant.save(update_fields=["deactivated_at"])
        tenant_deactivated.send(sender=Tenant, tenant=tenant, audit=audit)  # the keys app disables its keys
        activity_record(tenant=tenant, action=Action.TENANT_DEACTIVATED, audit=audit)
    return tenant


@transaction.atomic
def tenant_create(
    *, code: str, name: str, creator: User, audit: Audit | None = None
) -> tuple[Tenant, list[tuple[Any, str]]]:
    """Create a tenant, make `creator` its admin and, through `tenant_created`, have its Emporix
    API and Storefront API keys provisioned (by the keys app), all in one transaction. Returns
    the tenant and what the receivers provisioned: each key with its secret. The activity is
    the creator's unless `audit` says otherwise (e.g. with the client address)."""
    audit = audit or Audit(actor=creator)
    tenant = Tenant(code=code, name=name)
    tenant.full_clean()
    tenant.save(force_insert=True)
    Membership.objects.create(user=creator, tenant=tenant, role=Role.ADMIN)
    activity_record(
        tenant=tenant,
        action=Action.TENANT_CREATED,
        audit=audit,
        details={"code": code, "name": name},
    )
    responses = tenant_created.send(sender=Tenant, tenant=tenant, audit=audit)
    return tenant, [item for _, provisioned in responses for item in provisioned or ()]


POLICY_FIELDS = (
    "require_mfa",
    "key_max_lifetime_days",
    "secret_max_age_days",
    "dormant_after_days",
    "dormant_disable_after_days",
)


@transaction.atomic
def tenant_policy_change(*, tenant: Tenant, audit: Audit = SYSTEM, **changes: Any) -> Tenant:
    """Change the tenant's policy (any of POLICY_FIELDS); recorded only when something changes.
    A new maximum secret age gives every key of the tenant the whole period from now (nothing
    stops working at once); removing it removes the deadlines."""
    unknown = set(changes) - set(POLICY_FIELDS)
    if unknown:
        raise TypeError(f"not policy fields: {sorted(unknown)}")
    given, tenant = tenant, Tenant.objects.select_for_update().get(pk=tenant.pk)
    changed = {name: value for name, value in changes.items() if getattr(tenant, name) != value}
    if not changed:
        return tenant
    for name, value in changed.items():
        setattr(tenant, name, value)
        setattr(given, name, value)  # the caller's instance shows the new policy too
    tenant.save(update_fields=list(changed))
    tenant_policy_changed.send(sender=Tenant, tenant=tenant, changed=changed, audit=audit)
    activity_record(tenant=tenant, action=Action.TENANT_POLICY_CHANGED, audit=audit, details=changed)
    return tenant


class LastAdminError(ValueError):
    """The change would leave the tenant without an admin. Its message is for the user."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or gettext("A tenant needs at least one admin: make someone else admin first."))


def _keep_an_admin(membership: Membership) -> None:
    """Raises LastAdminError if `membership` is the tenant's only admin, so that demoting or
    removing it would leave the tenant without one."""
    if membership.role != Role.ADMIN:
        return
    # Lock every admin membership of the tenant so two concurrent demotions cannot both pass.
    admins = Membership.objects.select_for_update().filter(tenant=membership.tenant, role=Role.ADMIN)
    if not any(pk != membership.pk for pk in admins.values_list("pk", flat=True)):
        raise LastAdminError()


class InvitationError(ValueError):
    """An invitation cannot be accepted. Its message is for the person holding the link."""


class InvitationUnbacked(InvitationError):
    """Whoever sent the invitation can no longer give its role (demoted, narrowed, disabled or
    gone since): it is refused, not capped, and stays for an admin to resend or cancel."""


def _powers(audit: Audit, grantor: Powers | None) -> Powers:
    """The powers a grant is checked against: the caller's, which a person's or a key's grant
    must pass (so that no channel forgets to); the system's for an audit with neither."""
    if grantor is not None:
        return grantor
    if audit.actor is None and audit.actor_key is None:
        return SYSTEM_POWERS
    raise TypeError("a grant by a person or a key needs their powers (tenants.grants)")


def _sender_set(invitation: Invitation, audit: Audit) -> None:
    """Whoever sends (or resends) the invitation vouches for it: accepting checks their powers."""
    invitation.invited_by = audit.actor
    invitation.invited_by_key = audit.actor_key if audit.actor is None else None
    if audit.actor is not None:
        invitation.inviter_kind = Invitation.Inviter.PERSON
    elif audit.actor_key is not None:
        invitation.inviter_kind = Invitation.Inviter.KEY
    else:
        invitation.inviter_kind = Invitation.Inviter.SYSTEM


def invitation_refusal(invitation: Invitation) -> str | None:
    """Why `invitation` cannot be accepted now that its sender's powers are what they are, or
    None if it can (tenants.grants.sender_powers)."""
    try:
        role_grant_check(sender_powers(invitation), role=invitation.role)
    except RoleGrantRefused:
        return gettext(INVITATION_UNBACKED).format(role=invitation.get_role_display())
    return None


def _mail_invitation(invitation: Invitation, *, accept_url: str) -> None:
    """Give the invitation a new token and expiry, save it and mail its link. The token is
    in the mail and nowhere else."""
    token = crypto.generate_token(crypto.INVITATION_TOKEN_PREFIX)
    invitation.token_digest = crypto.digest(token)
    invitation.sent_at = timezone.now()
    invitation.expires_at = invitation.sent_at + timedelta(days=settings.INVITATION_LIFETIME_DAYS)
    invitation.save()
    link = f"{accept_url}?{urlencode({'token': token})}"
    # In the invitee's language if they have an account, else the inviter's (docs/i18n.md).
    invitee = User.objects.filter(email__iexact=invitation.email).only("language").first()
    with translation.override(mail_language(invitee)):
        context = {
            "invitation": invitation,
            "tenant": invitation.tenant,
            # A name its creator chose, in a subject and a sentence: one line, bounded.
            "tenant_name": one_line(invitation.tenant.name, TENANT_NAME_IN_MAIL),
            "link": link,
            "expires": human_datetime(invitation.expires_at),
        }
        text = render_to_string("tenants/invitation_email.txt", context)
        subject = one_line(render_to_string("tenants/invitation_subject.txt", context))
        html = html_from_text(text)
    send_mail(subject=subject, message=text, from_email=None, recipient_list=[invitation.email], html_message=html)


def _invitation_record(invitation: Invitation, action: str, audit: Audit) -> None:
    activity_record(
        tenant=invitation.tenant,
        action=action,
        audit=audit,
        details={"member": invitation.email, "role": invitation.role},
    )


@transaction.atomic
def invitation_send(
    *,
    tenant: Tenant,
    email: str,
    role: str,
    accept_url: str,
    audit: Audit = SYSTEM,
    grantor: Powers | None = None,
) -> Invitation:
    """Invite `email` to the tenant with `role`: store the invitation and mail it, with a link
    to `accept_url` carrying a new token. Never looks at whether the address has an account,
    so nothing the admin sees (message, mail, timing) depends on it. An expired invitation to
    the same address is replaced; a pending one raises IntegrityError. A mail that cannot be
    sent (MAIL_ERRORS) rolls everything back. Raises RoleGrantRefused, before anything is
    stored, sent or recorded, unless `grantor` (the caller's powers) may give `role`."""
    role_grant_check(_powers(audit, grantor), role=role)
    email = normalize_email(email)
    Invitation.objects.filter(tenant=tenant, email=email, expires_at__lte=timezone.now()).delete()
    invitation = Invitation(tenant=tenant, email=email, role=role)
    _sender_set(invitation, audit)
    _mail_invitation(invitation, accept_url=accept_url)
    _invitation_record(invitation, Action.INVITATION_SENT, audit)
    return invitation


@transaction.atomic
def invitation_resend(
    *, invitation: Invitation, accept_url: str, audit: Audit = SYSTEM, grantor: Powers | None = None
) -> Invitation:
    """Mail the invitation again with a new token and a new expiry; the old link stops working.
    Whoever resends it becomes its sender, so `grantor` must be able to give its role (else
    RoleGrantRefused, nothing changed)."""
    invitation = Invitation.objects.select_for_update().select_related("tenant").get(pk=invitation.pk)
    role_grant_check(_powers(audit, grantor), role=invitation.role)
    _sender_set(invitation, audit)
    _mail_invitation(invitation, accept_url=accept_url)
    _invitation_record(invitation, Action.INVITATION_RESENT, audit)
    return invitation


@transaction.atomic
def invitation_cancel(*, invitation: Invitation, audit: Audit = SYSTEM) -> None:
    """Withdraw an invitation; its link stops working."""
    _invitation_record(invitation, Action.INVITATION_CANCELLED, audit)
    invitation.delete()


def invitation_for_token(token: str, *, lock: bool = False) -> Invitation | None:
    """The invitation whose link carries `token`, expired or not; None for a token that is
    unknown, cancelled, used or replaced by a resend. Looked up by the token's SHA-256 digest
    (the token is stored nowhere), which an equality lookup may leak by timing without
    bringing a guesser any closer to a token. `lock`: inside a transaction, lock the row."""
    if not token.startswith(crypto.INVITATION_TOKEN_PREFIX):
        return None
    invitations = Invitation.objects.select_related("tenant", "invited_by")
    if lock:
        invitations = invitations.select_for_update(of=("self",))
    return invitations.filter(token_digest=crypto.digest(token)).first()


@transaction.atomic
def invitation_accept(*, token: str, user: User, password: str | None = None, audit: Audit) -> Membership:
    """Make `user` a member of the invitation's tenant with its role and delete the
    invitation, so that the link works once. `user` must have the invited address. With
    `password` (already validated), it becomes the user's password and the user is saved
    (created, if new) in the same transaction as the membership. Raises InvitationError for
    a token that is unknown, used, cancelled or expired, or for another user's address, and
    InvitationUnbacked if whoever sent it can no longer give its role (the invitation stays)."""
    # Locked: of two concurrent accepts, the second finds it gone.
    invitation = invitation_for_token(token, lock=True)
    if invitation is None:
        raise InvitationError(gettext(INVITATION_UNKNOWN))
    if invitation.is_expired:
        raise InvitationError(gettext(INVITATION_EXPIRED))
    if normalize_email(user.email) != invitation.email:
        raise InvitationError(wrong_user_message(invitation, user))
    if refusal := invitation_refusal(invitation):
        raise InvitationUnbacked(refusal)
    if password is not None:
        user.set_password(password)
        user.save()
    membership, _ = Membership.objects.get_or_create(
        user=user, tenant=invitation.tenant, defaults={"role": invitation.role}
    )
    _invitation_record(invitation, Action.INVITATION_ACCEPTED, audit)
    invitation.delete()
    return membership


@transaction.atomic
def member_change_role(
    *, membership: Membership, role: str, audit: Audit = SYSTEM, grantor: Powers | None = None
) -> Membership:
    """Change a member's role; the tenant always keeps at least one admin. Raises
    RoleGrantRefused unless `grantor` may give both `role` and the member's current one."""
    membership = Membership.objects.select_for_update().select_related("user", "tenant").get(pk=membership.pk)
    role_grant_check(_powers(audit, grantor), role=role, member_role=membership.role)
    if membership.role == role:
        return membership
    _keep_an_admin(membership)
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    activity_record(
        tenant=membership.tenant,
        action=Action.MEMBER_CHANGED,
        audit=audit,
        details={"member": membership.user.email, "from": before, "to": role},
    )
    return membership


@transaction.atomic
def member_remove(*, membership: Membership, audit: Audit = SYSTEM, grantor: Powers | None = None) -> None:
    """Remove a member; the tenant always keeps at least one admin. Raises RoleGrantRefused
    unless `grantor` may give the member's role (nobody removes someone more powerful)."""
    membership = Membership.objects.select_for_update().select_related("user", "tenant").get(pk=membership.pk)
    role_grant_check(_powers(audit, grantor), member_role=membership.role)
    _keep_an_admin(membership)
    activity_record(
        tenant=membership.tenant,
        action=Action.MEMBER_REMOVED,
        audit=audit,
        details={"member": membership.user.email, "role": membership.role},
    )
    membership.delete()
    member_removed.send(sender=Membership, tenant=membership.tenant, user=membership.user, audit=audit)
