"""The kinds of notification mail the portal sends to tenant admins. Each can be turned off
per person on My Account. A new kind (key expiry reminders, dormant keys, leaked secrets) is
one entry here and a pair of templates, templates/notifications/<code>.txt and .html."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    code: str
    label: str  # shown on My Account
    help: str


WEBHOOK_FAILING = Kind(
    "webhook_failing",
    "A webhook endpoint keeps failing",
    "When deliveries to one of your tenants' webhook endpoints fail again and again.",
)

KINDS: dict[str, Kind] = {kind.code: kind for kind in [WEBHOOK_FAILING]}
