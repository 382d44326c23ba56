"""Per-key allowed web origins (an HTTP-referrer restriction): which browser pages may use a
Storefront or custom key. oauth/cors.py enforces them at the token service (docs/cors.md).

A key's `allowed_origins` is empty (no browser page may use it) or a list of origins, one per
line, as `origins_clean` normalises them:
- an exact origin: `https://shop.example.com`, `http://127.0.0.2:8123` (scheme http or https,
  lowercase host, IDN hosts in punycode as browsers send them, default port dropped);
- a subdomain wildcard: `https://*.example.com` matches `https://a.example.com` and
  `https://a.b.example.com`, not `https://example.com` (list it too) and never
  `https://evil-example.com` or `https://example.com.evil.io`;
- `*` (any origin), for the Storefront key only: its anonymous login has no secret to keep, and
  the token endpoint never honours `*` (a key used with a secret names its origins).
"""

import ipaddress
import re
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import urlsplit

import idna
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, gettext_lazy

MAX_ORIGINS = 50
ANY = "*"

# What the management API's schema states for one entry; origins_clean is the authority
# (it also accepts a trailing slash and uppercase, and normalises them away).
ORIGIN_PATTERN = r"^(\*|https?://(\*\.)?([^/?#@\s:*\[\]]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?/?)$"

DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class Rule(NamedTuple):
    """One normalised entry: an exact origin, or (wildcard) a scheme, a host suffix that starts
    with a dot, and a port."""

    scheme: str
    host: str
    port: int | None
    wildcard: bool


def _host_normalised(host: str) -> str:
    """The host in the form a browser's Origin header carries: lowercase, IDN as punycode, an
    IPv6 literal in brackets. Raises ValueError."""
    if host.startswith("["):
        if not host.endswith("]") or ":" not in host:
            raise ValueError
        return f"[{ipaddress.IPv6Address(host[1:-1]).compressed}]"
    host = host.rstrip(".").lower()
    if not host:
        raise ValueError
    if not host.isascii():
        host = idna.encode(host, uts46=True).decode("ascii")
    labels = host.split(".")
    if not all(_LABEL.match(label) for label in labels):
        raise ValueError
    return host


# What is wrong with an entry, said in the language of the page that shows it (lazy: the token
# service's checks parse origins too, and never show these).
PORT_RANGE = gettext_lazy("the port must be a number from 1 to 65535")


def _parse(entry: str) -> tuple[str, Rule]:
    """(normalised text, rule) of one entry as an admin typed it. Raises ValueError with what is
    wrong."""
    if "://" not in entry:
        raise ValueError(gettext_lazy("needs a scheme: http:// or https://"))
    scheme, _, rest = entry.partition("://")
    scheme = scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError(gettext_lazy("the scheme must be http or https"))
    if rest.endswith("/"):
        rest = rest[:-1]  # "https://shop.example.com/" is how it is often copied
    if any(char in rest for char in "/?#"):
        raise ValueError(gettext_lazy("an origin has no path, query or fragment"))
    if "@" in rest or any(char.isspace() for char in rest):
        raise ValueError(gettext_lazy("an origin has no user name or spaces"))
    wildcard = rest.startswith("*.")
    if wildcard:
        rest = rest[2:]
    try:
        parts = urlsplit(f"{scheme}://{rest}")
        host, port = parts.hostname, parts.port
    except ValueError:
        raise ValueError(PORT_RANGE) from None
    if not host or "*" in rest:
        raise ValueError(gettext_lazy("a wildcard is only allowed as the first label: https://*.example.com"))
    # urlsplit lowercases and strips brackets; take the host as written to normalise it.
    written = parts.netloc.rsplit(":", 1)[0] if parts.port is not None else parts.netloc
    try:
        host = _host_normalised(written)
    except (ValueError, idna.IDNAError):
        raise ValueError(gettext_lazy("the host name is not valid")) from None
    if port == 0:
        raise ValueError(PORT_RANGE)
    if port == DEFAULT_PORTS[scheme]:
        port = None
    if wildcard and (host.startswith("[") or "." not in host or host.replace(".", "").isdigit()):
        raise ValueError(gettext_lazy("a wildcard needs a domain of at least two labels: https://*.example.com"))
    text = f"{scheme}://{'*.' if wildcard else ''}{host}{f':{port}' if port else ''}"
    return text, Rule(scheme, f".{host}" if wildcard else host, port, wildcard)


def origins_clean(text: str | list[str], *, allow_any: bool) -> str:
    """The origins in `text` (a list, or separated by newlines, commas or spaces), validated and
    normalised to one per line, duplicates dropped; "" for none. `allow_any`: whether `*` may be
    listed (the Storefront key). Raises ValidationError with every problem named."""
    parts = text if isinstance(text, list) else re.split(r"[\s,]+", text or "")
    problems: list[str] = []
    seen: list[str] = []
    for part in (part.strip() for part in parts):
        if not part:
            continue
        if part == ANY:
            if not allow_any:
                problems.append(
                    gettext("“*” (any origin) is only for the Storefront key: a key with a secret names its origins.")
                )
            elif ANY not in seen:
                seen.append(ANY)
            continue
        try:
            normalised, _ = _parse(part)
        except ValueError as error:
            problems.append(
                gettext("“%(origin)s”: %(problem)s (like https://shop.example.com).")
                % {"origin": part[:80], "problem": error.args[0] if error.args else error}
            )
            continue
        if normalised not in seen:
            seen.append(normalised)
    if len(seen) > MAX_ORIGINS:
        problems.append(gettext("At most %(max)d origins per key.") % {"max": MAX_ORIGINS})
    if problems:
        raise ValidationError(problems)
    return "\n".join(seen)


def _parsed_rules(lines) -> tuple[Rule, ...]:
    """The rules of stored lines. A line today's rules refuse (stored under looser ones) is
    skipped, matching nothing, rather than failing the request."""
    rules = []
    for line in lines:
        try:
            rules.append(_parse(line)[1])
        except ValueError:
            continue
    return tuple(rules)


@lru_cache(maxsize=4096)
def _rules(text: str) -> tuple[tuple[Rule, ...], bool]:
    """The parsed rules of a normalised list, and whether it holds `*`."""
    lines = text.split("\n")
    return _parsed_rules(line for line in lines if line != ANY), ANY in lines


@lru_cache(maxsize=4096)
def origin_parsed(origin: str) -> Rule | None:
    """An Origin header's value as an exact rule, or None if it is not an http(s) origin (for
    example `null`, from a sandboxed frame or a file)."""
    if not origin or "*" in origin or origin.endswith("/"):
        return None
    try:
        _, rule = _parse(origin)
    except ValueError:
        return None
    return rule


def origin_allowed(origin: str, allowed_origins: str, *, honour_any: bool) -> bool:
    """True if the key's list (normalised text) allows a request whose Origin header is
    `origin`. `honour_any`: whether a `*` entry counts (not at the token endpoint)."""
    if not allowed_origins:
        return False
    parsed = origin_parsed(origin)
    if parsed is None:
        return False
    rules, has_any = _rules(allowed_origins)
    if has_any and honour_any:
        return True
    return any(rule_matches(rule, parsed) for rule in rules)


def rule_matches(rule: Rule, origin: Rule) -> bool:
    if rule.scheme != origin.scheme or rule.port != origin.port:
        return False
    if rule.wildcard:
        # ".example.com" as a suffix: "a.example.com" matches, "evil-example.com" and
        # "example.com.evil.io" do not, nor "example.com" itself.
        return origin.host.endswith(rule.host) and len(origin.host) > len(rule.host)
    return origin.host == rule.host


# --- Preflights: the union of every key's origins --------------------------------------------
# A CORS preflight carries no credentials and no body, so it cannot name a key. It is answered
# for an origin that SOME key allows (docs/cors.md); the actual request is checked against its
# own key. The union is one query, cached (shared cache) and forgotten when a list changes.

KNOWN_CACHE_KEY = "apikeys:origins:known:v1"
KNOWN_CACHE_SECONDS = 300


class Known(NamedTuple):
    rules: tuple[Rule, ...]
    # Some Storefront key lists `*`: its anonymous login may be called from any page.
    storefront_any: bool


def known_origins() -> Known:
    from django.core.cache import cache

    from .models import ApiKey, KeyKind

    known = cache.get(KNOWN_CACHE_KEY)
    if known is None:
        lines: set[str] = set()
        storefront_any = False
        for kind, text in ApiKey.objects.exclude(allowed_origins="").values_list("kind", "allowed_origins"):
            entries = set(text.split("\n"))
            storefront_any |= kind == KeyKind.STOREFRONT and ANY in entries
            lines |= entries - {ANY}
        known = (tuple(sorted(lines)), storefront_any)
        cache.set(KNOWN_CACHE_KEY, known, KNOWN_CACHE_SECONDS)
    lines, storefront_any = known
    return Known(_parsed_rules(lines), storefront_any)


def known_origins_forget() -> None:
    from django.core.cache import cache

    cache.delete(KNOWN_CACHE_KEY)


def origin_known(origin: str, *, honour_any: bool) -> bool:
    """True if some key allows `origin` (`honour_any`: counting a Storefront key's `*`)."""
    parsed = origin_parsed(origin)
    if parsed is None:
        return False
    known = known_origins()
    if honour_any and known.storefront_any:
        return True
    return any(rule_matches(rule, parsed) for rule in known.rules)
