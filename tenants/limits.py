"""Limits on what a signed-in person (or an API key) can make the portal do to others: who may
add tenants (TENANT_CREATORS), and how many tenants a person adds and how many invitations
(each a mail to any address) a sender and a tenant send per hour (issue 18: any viewer could
create tenants with any name and mail invitations to any address without a limit).

Counted with kernel.ratelimit (fixed windows in the cache, shared by every instance, in process
memory while the cache is down); each counted attempt is one the form or API accepted, just
before it is carried out."""

import time
from typing import Any

from django.conf import settings
from django.utils.translation import gettext, gettext_noop

from kernel import ratelimit
from kernel.dates import wait_text

from .models import Membership, Role, Tenant

TENANT_CREATORS_HELP = {
    "staff-and-admins": "Staff, and people who are already an admin of a tenant, may add tenants.",
    "staff": "Only staff may add tenants.",
    "everyone": "Anyone who can log in may add tenants.",
}


class LimitReached(Exception):
    """An hourly limit is reached; `wait` is the seconds until the window ends (Retry-After)."""

    def __init__(self, message: str, wait: int) -> None:
        super().__init__(message)
        self.wait = wait


def may_create_tenants(user: Any) -> bool:
    """Whether `user` may add a tenant in the portal, by TENANT_CREATORS."""
    if not user.is_authenticated or not user.is_active:
        return False
    if settings.TENANT_CREATORS == "everyone" or user.is_staff or user.is_superuser:
        return True
    if settings.TENANT_CREATORS == "staff-and-admins":
        return Membership.objects.filter(user=user, role=Role.ADMIN).exists()
    return False


def _hit(counters: list[ratelimit.Counter], message: str) -> None:
    wait = ratelimit.hit(counters, window=settings.ABUSE_LIMIT_WINDOW, now=time.time())
    if wait is not None:
        raise LimitReached(gettext(message).format(wait=wait_text(wait)), wait)


def tenant_creation_count(user: Any) -> None:
    """Count a tenant `user` is about to add; raises LimitReached past the hourly limit."""
    _hit(
        [ratelimit.Counter("tenant:new:u", (str(user.pk),), settings.TENANT_CREATION_LIMIT_PER_USER)],
        gettext_noop("You have added the most tenants allowed in an hour. Try again in {wait}."),
    )


def invitation_count(*, tenant: Tenant, sender: str) -> None:
    """Count an invitation mail (sent or resent) from `sender` ("user:<pk>" or "key:<pk>") for
    `tenant`; raises LimitReached past either hourly limit."""
    _hit(
        [
            ratelimit.Counter("invite:s", (sender,), settings.INVITATION_LIMIT_PER_SENDER),
            ratelimit.Counter("invite:t", (str(tenant.pk),), settings.INVITATION_LIMIT_PER_TENANT),
        ],
        gettext_noop("The most invitation mails allowed in an hour have been sent. Try again in {wait}."),
    )
