"""Leaked secrets: what happens when a secret of this portal turns up in public.

`secret_leak_report` takes one candidate (from a secret-scanning service, through the token
service's signed endpoint, or pasted by a tenant admin): it is checked offline first (format
and CRC32 checksum, kernel.crypto), then by digest against the stored secrets (an indexed
lookup; plaintexts are never decrypted). A match that still works is stopped at once: the
key's current secret is renewed with no grace period (so the leaked secret and every token it
minted stop), or a leaked old secret is retired. The tenant's admins get a mail saying where it
was found, and the activity log records it. Nothing is said to the caller about candidates
that do not match.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.debug import sensitive_variables

from activity.audit import SYSTEM, Audit
from activity.models import Action
from activity.services import activity_record
from kernel import crypto
from notifications.kinds import SECRET_LEAKED
from notifications.services import notify_tenant_admins

from .models import ApiKey, ApiSecret
from .services import key_renew, secret_retire


@dataclass(frozen=True)
class LeakOutcome:
    matched: bool  # a secret of this portal (live or not)
    stopped: bool = False  # it still worked, and now does not
    key: ApiKey | None = None


@sensitive_variables("candidate")
def secret_leak_report(
    *, candidate: str, url: str = "", source: str = "", tenant_code: str | None = None, audit: Audit = SYSTEM
) -> LeakOutcome:
    """Handle one reported candidate; `tenant_code` limits matches to one tenant (an admin's
    own report). See the module's docstring."""
    if not isinstance(candidate, str) or not crypto.is_well_formed_secret(candidate):
        return LeakOutcome(False)
    found = ApiSecret.objects.select_related("key__tenant").filter(digest=crypto.digest(candidate))
    if tenant_code is not None:
        found = found.filter(key__tenant__code=tenant_code)
    secret = found.first()
    if secret is None:
        return LeakOutcome(False)
    key = secret.key
    where = {"url": url[:500], "source": source[:100]}
    with transaction.atomic():
        now = timezone.now()
        live = secret.expires_at is None or secret.expires_at > now
        if live and secret.expires_at is None:
            key_renew(key=key, grace=None, audit=audit)
        elif live:
            secret_retire(secret=secret, audit=audit)
        activity_record(
            tenant=key.tenant,
            action=Action.SECRET_LEAKED,
            audit=audit,
            key=key,
            details={**where, "stopped": live, "secret_created": secret.created_at.isoformat()},
        )
        transaction.on_commit(lambda: _notify_admins(key, where, stopped=live))
    return LeakOutcome(True, stopped=live, key=key)


def _notify_admins(key: ApiKey, where: dict[str, str], *, stopped: bool) -> None:
    notify_tenant_admins(
        tenant=key.tenant,
        kind=SECRET_LEAKED,
        context={"key": key, "stopped": stopped, **where},
        template="apikeys/email/secret_leaked",
        # Called in each recipient's language (notifications.services).
        subject=lambda: (
            gettext("A secret of “%(name)s” (%(code)s) was found in public")
            % {"name": key.name, "code": key.tenant.code}
        ),
    )
