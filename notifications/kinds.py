"""The kinds of notification mail the portal sends to tenant admins. Each can be turned off
per person on My Account. A new kind is one entry here and a pair of templates,
templates/notifications/<code>.txt and .html (or its own pair, named when sending)."""

from dataclasses import dataclass

from django.utils.translation import gettext_noop as _


@dataclass(frozen=True)
class Kind:
    code: str
    # Shown on My Account and in mails' footers, translated where shown ({% translate kind.label %}):
    # marked here with gettext_noop, so that they stay plain English strings.
    label: str
    help: str


WEBHOOK_FAILING = Kind(
    "webhook_failing",
    _("A webhook endpoint keeps failing"),
    _("When deliveries to one of your tenants' webhook endpoints fail again and again."),
)

KEY_HYGIENE = Kind(
    "key_hygiene",
    _("Keys that need attention"),
    _("Keys about to expire or due for a new secret, expired, unused and about to be disabled, or disabled for it."),
)
SECRET_LEAKED = Kind(
    "secret_leaked",
    _("A secret was found in public"),
    _("A key's secret reported as leaked (by a secret scanning service or an admin), and what the portal did."),
)

KINDS: dict[str, Kind] = {kind.code: kind for kind in [KEY_HYGIENE, SECRET_LEAKED, WEBHOOK_FAILING]}
