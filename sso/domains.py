"""Proof that a tenant owns an e-mail domain: a DNS TXT record at `_portal-sso.<domain>` that
holds the claim's token. Looked up with dnspython, through the resolvers of SSO_DNS_RESOLVERS
(`host:port`, e.g. a company's internal resolver) or the system's. Where the portal reaches no
DNS, an operator confirms the domain instead (`manage.py sso_domain_confirm`)."""

import logging

import dns.exception
import dns.resolver
from django.conf import settings

from .models import ClaimedDomain

logger = logging.getLogger(__name__)


class DnsUnavailable(Exception):
    """No resolver answered: DNS is out of reach from here."""


def _resolver() -> dns.resolver.Resolver:
    configured = list(getattr(settings, "SSO_DNS_RESOLVERS", []))
    if not configured:
        return dns.resolver.Resolver()
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [entry.rpartition(":")[0] if ":" in entry else entry for entry in configured]
    ports = {int(entry.rpartition(":")[2]) for entry in configured if ":" in entry}
    resolver.port = ports.pop() if len(ports) == 1 else 53
    return resolver


def txt_values(name: str) -> list[str]:
    """The TXT strings at `name` ([] when there is no such record); raises DnsUnavailable
    when no resolver answers."""
    try:
        answer = _resolver().resolve(name, "TXT", lifetime=settings.SSO_DNS_TIMEOUT)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except (dns.resolver.NoNameservers, dns.exception.Timeout) as exc:
        logger.warning("sso: DNS lookup of %s failed: %s", name, type(exc).__name__)
        raise DnsUnavailable from exc
    return [b"".join(record.strings).decode("utf-8", "replace") for record in answer]


def proved_by_dns(claimed: ClaimedDomain) -> bool:
    """Whether the domain's TXT record holds this claim's token right now."""
    return claimed.txt_record in txt_values(claimed.txt_name)
