"""What a management API key can do, as tenants.grants.Powers: the rule that decides which role
it may give is tenants.grants.role_grant_check; this module only says what the key could do
itself, from the scopes its token holds.

- sees what a viewer sees: portal.key_read (or portal.key_manage);
- reads every secret of the tenant, as a developer does: the API's own rule for revealing a
  key's secret (`may_read_secret`: portal.secret_reveal and every scope of the key) holds for
  every key of the tenant and for the Emporix API key's scopes (the whole catalogue);
- does everything an admin does: every offered scope, every portal.* one included;
- manages members at all: portal.member_manage.
"""

from collections.abc import Iterable

from django.utils import timezone

from apikeys.auth import builtin_scope_names, held_scope_names
from apikeys.models import ApiKey, KeyKind, key_usable_q
from scopes.models import Scope
from tenants.grants import DO_EVERYTHING, MANAGE_MEMBERS, READ_EVERY_SECRET, SEE_KEYS, Powers
from tenants.models import Tenant

KEY_READ = ("portal.key_read", "portal.key_manage")
SECRET_REVEAL = "portal.secret_reveal"
MEMBER_MANAGE = "portal.member_manage"
SHOWN = 10  # scope names a message lists before "…"


def scopes_beyond(held: frozenset[str], scopes: Iterable[str]) -> list[str]:
    """The scopes of `scopes` that `held` lacks, sorted: a token acts on a key, or gives a
    scope, only if there are none."""
    return sorted(set(scopes) - held)


def shown(names: list[str]) -> str:
    return " ".join(names[:SHOWN]) + (" …" if len(names) > SHOWN else "")


def may_read_secret(held: frozenset[str], key_scopes: Iterable[str]) -> bool:
    """The API's rule for reading a key's secret (POST /keys/{id}/reveal/, KeyReveal): the token
    holds portal.secret_reveal and every scope of the key."""
    return SECRET_REVEAL in held and not scopes_beyond(held, key_scopes)


def tenant_key_scopes(tenant: Tenant) -> frozenset[str]:
    """Every scope a key of `tenant` holds, with the Emporix API key's (every offered scope but
    the Portal API's, whether or not the tenant still has that key). Holding them all is
    holding every key's. One query (the custom keys'); the built-in lists are cached."""
    custom = Scope.objects.filter(apikeys__tenant=tenant).values_list("name", flat=True).distinct()
    return frozenset(custom) | frozenset(builtin_scope_names(KeyKind.EMPORIX))


def key_powers(held: frozenset[str], tenant: Tenant, who: str = "The calling key") -> Powers:
    """What a key whose token holds `held` could do in `tenant` itself (tenants.grants.Powers)."""
    every_key = tenant_key_scopes(tenant)
    offered = frozenset(Scope.objects.offered().values_list("name", flat=True))
    beyond_keys = scopes_beyond(held, every_key | {SECRET_REVEAL})
    beyond_offered = scopes_beyond(held, offered)
    return Powers(
        manage_members=MEMBER_MANAGE in held,
        see_keys=not held.isdisjoint(KEY_READ),
        read_every_secret=may_read_secret(held, every_key),
        do_everything=not beyond_offered,
        who=who,
        lacking={
            MANAGE_MEMBERS: f"it lacks {MEMBER_MANAGE}",
            SEE_KEYS: f"that needs {KEY_READ[0]} (or {KEY_READ[1]})",
            READ_EVERY_SECRET: (
                f"that needs {SECRET_REVEAL} and every scope of every key of the tenant, as revealing their "
                f"secrets does, and it lacks {len(beyond_keys)}: {shown(beyond_keys)}"
            ),
            DO_EVERYTHING: (
                f"that needs every offered scope, and it lacks {len(beyond_offered)}: {shown(beyond_offered)}"
            ),
        },
    )


def key_powers_now(key_id: int) -> Powers:
    """The powers of the key `key_id` as it is now, for accepting an invitation it sent: its
    current scopes; none if it is disabled, has expired or no longer exists."""
    key = ApiKey.objects.filter(key_usable_q(timezone.now()), pk=key_id).select_related("tenant").first()
    if key is None:
        return Powers(who="Its sender", lacking={MANAGE_MEMBERS: "the key that sent it is disabled, expired or gone"})
    return key_powers(frozenset(held_scope_names(key)), key.tenant, who="Its sender")
