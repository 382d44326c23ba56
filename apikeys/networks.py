"""Per-key network allowlists: which client addresses may use a key at the token endpoint.

A key's `allowed_networks` is empty (any address) or a list of IPv4/IPv6 networks in CIDR
notation, one per line, as `networks_clean` normalises it. The token check compares the
client's address (kernel.net.client_ip: REMOTE_ADDR, or the trusted proxy header) against it;
an address outside gets the same invalid_client as a wrong secret.
"""

import ipaddress
import re
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

MAX_NETWORKS = 50

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks_clean(text: str) -> str:
    """The networks in `text` (separated by newlines, commas or spaces), validated and
    normalised to one CIDR per line, duplicates dropped; "" for none. Raises ValidationError
    with every problem named."""
    parts = [part for part in re.split(r"[\s,]+", text or "") if part]
    problems: list[str] = []
    seen: list[str] = []
    for part in parts:
        try:
            network = ipaddress.ip_network(part, strict=True)
        except ValueError:
            try:
                loose = ipaddress.ip_network(part, strict=False)
            except ValueError:
                problems.append(
                    gettext("“%(entry)s” is not an IPv4 or IPv6 address or network (like 203.0.113.0/24).")
                    % {"entry": part[:60]}
                )
            else:
                problems.append(
                    gettext("“%(entry)s” has host bits set; did you mean %(network)s?")
                    % {"entry": part, "network": loose}
                )
            continue
        if str(network) not in seen:
            seen.append(str(network))
    if len(seen) > MAX_NETWORKS:
        problems.append(gettext("At most %(max)d networks per key.") % {"max": MAX_NETWORKS})
    if problems:
        raise ValidationError(problems)
    return "\n".join(seen)


@lru_cache(maxsize=1024)
def _parsed(text: str) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(line, strict=False) for line in text.split("\n") if line)


def address_allowed(address: str, allowed_networks: str) -> bool:
    """True if the key allows `address`: it has no list, or the address is in one of its
    networks. An address that does not parse (or an IPv4-mapped IPv6 form of one) is judged
    as the address it stands for; one that cannot be read is refused."""
    if not allowed_networks:
        return True
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == network.version and ip in network for network in _parsed(allowed_networks))
