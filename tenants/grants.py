"""Who may give a person which role: the one rule, used by the Members page, the management API
and invitation acceptance (issue 18: a key holding only portal.member_manage could make its
holder an admin, who then read the Emporix API key's secret).

**Nobody, person or key, gives a person more than it could do itself.** Giving a role needs
every power the role brings (ROLE_NEEDS): a viewer sees the keys, their Client IDs and scopes;
a developer also reads every secret of the tenant, the Emporix API key's included; an admin
also does everything else. Changing or removing a member needs the same as giving the role the
member holds now, so nobody acts on someone more powerful than itself either.

This module knows no keys or tokens: each channel says what its caller can do as `Powers`
(plain data). A person's come from their role and a recent re-authentication
(`person_powers`, here); a key's from the scopes its token holds (`api.grants.key_powers`,
which registers `key_powers_now` for invitations a key sent)."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from django.utils.translation import gettext, gettext_lazy, pgettext, pgettext_lazy

from .models import ROLE_RANK, Invitation, Membership, Role

MANAGE_MEMBERS = "manage_members"
SEE_KEYS = "see_keys"
READ_EVERY_SECRET = "read_every_secret"
DO_EVERYTHING = "do_everything"

# What giving each role needs: everything the role lets its holder do (the roles' table in the
# docs: viewers see keys; developers also reveal and copy every secret; admins do everything).
ROLE_NEEDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        Role.VIEWER: (SEE_KEYS,),
        Role.DEVELOPER: (SEE_KEYS, READ_EVERY_SECRET),
        Role.ADMIN: (SEE_KEYS, READ_EVERY_SECRET, DO_EVERYTHING),
    }
)


@dataclass(frozen=True)
class Powers:
    """What a caller can do in one tenant, as its channel found it.

    manage_members: may invite people, change roles and remove members at all.
    see_keys: sees what a viewer sees.
    read_every_secret: could read every secret of the tenant, as a developer can.
    do_everything: could do everything an admin does.
    who: names the caller in a refusal ("The calling key").
    lacking: for each power it lacks, what it would need, for a refusal's message."""

    manage_members: bool = False
    see_keys: bool = False
    read_every_secret: bool = False
    do_everything: bool = False
    # In German the name stands where "für ..." needs it (den Aufrufer): only refusals use it.
    who: str = pgettext_lazy("who, in a refusal", "The caller")
    lacking: Mapping[str, str] = field(default_factory=dict)


# Operators' commands, data migrations and tests (activity.audit.SYSTEM): no person or key.
SYSTEM_POWERS = Powers(
    manage_members=True,
    see_keys=True,
    read_every_secret=True,
    do_everything=True,
    who=pgettext_lazy("who, in a refusal", "The system"),
)


class RoleGrantRefused(PermissionError):
    """The caller may not give this role, or act on this member. Its message is for the caller
    and says what it lacks."""


def highest_role(powers: Powers) -> str | None:
    """The highest role a caller with `powers` may give; None if it may give none."""
    highest = None
    if powers.manage_members:
        for role in sorted(ROLE_NEEDS, key=lambda role: ROLE_RANK[role]):
            if not all(getattr(powers, need) for need in ROLE_NEEDS[role]):
                break
            highest = role
    return highest


def _lacks(powers: Powers, need: str) -> str:
    return powers.lacking.get(need) or gettext("it lacks that power")


def role_grant_check(powers: Powers, *, role: str | None = None, member_role: str | None = None) -> None:
    """Returns if a caller with `powers` may give a person `role` (an invitation, a role change)
    and, with `member_role` (the role the person holds now: a role change or a removal), may act
    on that member; else raises RoleGrantRefused, before anything is written or recorded."""
    if not powers.manage_members:
        raise RoleGrantRefused(
            gettext("%(who)s cannot manage members: %(lacks)s.")
            % {"who": powers.who, "lacks": _lacks(powers, MANAGE_MEMBERS)}
        )
    texts = (
        (member_role, gettext_lazy("change or remove a member who is %(label)s")),
        (role, gettext_lazy("give the %(label)s role")),
    )
    for wanted, text in texts:
        if wanted is None:
            continue
        missing = next((need for need in ROLE_NEEDS[Role(wanted)] if not getattr(powers, need)), None)
        if missing is not None:
            action = text % {"label": Role(wanted).label}
            raise RoleGrantRefused(
                gettext("%(who)s cannot %(action)s: %(lacks)s.")
                % {"who": powers.who, "action": action, "lacks": _lacks(powers, missing)}
            )


def person_powers(role: str | None, *, reauthenticated: bool, who: str | None = None) -> Powers:
    """A person's powers in a tenant where they hold `role` (None: not a member). Only an admin
    manages members, and only within the re-authentication window (accounts.reauth)."""
    rank = -1 if role is None else ROLE_RANK[Role(role)]
    is_admin = role == Role.ADMIN
    lacking = {
        MANAGE_MEMBERS: gettext("re-authenticate first") if is_admin else gettext("only admins manage members"),
        SEE_KEYS: gettext("only members see keys"),
        READ_EVERY_SECRET: gettext("only developers and admins see secrets"),
        DO_EVERYTHING: gettext("only admins do everything an admin does"),
    }
    return Powers(
        manage_members=is_admin and reauthenticated,
        see_keys=rank >= ROLE_RANK[Role.VIEWER],
        read_every_secret=rank >= ROLE_RANK[Role.DEVELOPER],
        do_everything=is_admin,
        who=who if who is not None else pgettext("who, in a refusal", "You"),
        lacking=lacking,
    )


# --- Invitation acceptance: the sender's powers as they are now -------------------------------

# The api app, which knows what a key's scopes let it do, registers how to find the current
# powers of the key with this id (api/apps.py). Without it, a key's invitation is refused.
_key_powers_now: Callable[[int], Powers] | None = None
NO_POWERS = Powers(
    who=pgettext_lazy("who, in a refusal", "Its sender"), lacking={MANAGE_MEMBERS: gettext_lazy("it is gone")}
)


def register_key_powers(resolve: Callable[[int], Powers]) -> None:
    global _key_powers_now
    _key_powers_now = resolve


def sender_powers(invitation: Invitation) -> Powers:
    """What whoever sent `invitation` (or last resent it) may do in its tenant now: a person by
    their current role (their re-authentication was checked when they sent it); a key by its
    current scopes, or none if it was disabled, has expired or was deleted; a person or key that
    is gone, none. So an invitation is worth no more than its sender is at the moment it is
    accepted."""
    if invitation.inviter_kind == Invitation.Inviter.SYSTEM:
        return SYSTEM_POWERS
    if invitation.inviter_kind == Invitation.Inviter.PERSON and invitation.invited_by_id is not None:
        role = (
            Membership.objects.filter(tenant_id=invitation.tenant_id, user_id=invitation.invited_by_id)
            .values_list("role", flat=True)
            .first()
        )
        return person_powers(role, reauthenticated=True, who=pgettext("who, in a refusal", "Its sender"))
    by_key = invitation.inviter_kind == Invitation.Inviter.KEY and invitation.invited_by_key_id is not None
    if by_key and _key_powers_now is not None:
        return _key_powers_now(invitation.invited_by_key_id)
    return NO_POWERS
