"""Where deliveries may go (kernel/egress.py: public internet addresses only). Loopback is
allowed with WEBHOOKS_ALLOW_HTTP_LOOPBACK (tests, development), private networks with
WEBHOOKS_ALLOW_PRIVATE_NETWORKS (an operator whose endpoints are internal). Checked when an
endpoint is saved and before every POST."""

from django.conf import settings

from kernel import egress
from kernel.egress import is_literal_address

__all__ = ["address_allowed", "host_allowed", "is_literal_address"]


def address_allowed(address: str) -> bool:
    return egress.address_allowed(
        address, loopback=settings.WEBHOOKS_ALLOW_HTTP_LOOPBACK, private=settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS
    )


def host_allowed(host: str) -> bool:
    """True if `host` (a name or an address) is allowed: every address it resolves to is. A
    name that does not resolve is allowed here; the POST then fails as a connection error."""
    return egress.host_allowed(
        host, loopback=settings.WEBHOOKS_ALLOW_HTTP_LOOPBACK, private=settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS
    )
