"""What a key can do, at a glance: the scopes it holds grouped by service (the catalogue's
services, in its order), each scope with the number of operations of the route table it opens,
and per service the operations its scopes open together (scopes/unlocks.py, the scope picker's
data). The keys page shows it in each card and in the table's popover.

Built once per distinct set of scope names and kept in process memory, so that a page of keys
sharing a set (every Emporix API key, custom keys made alike) pays for it once; the catalogue's
part (which service each scope belongs to) is one query per SCOPE_CACHE_SECONDS, cleared with
the built-in keys' lists (apikeys.auth.scope_cache_clear)."""

import time
from dataclasses import dataclass

from django.utils.translation import gettext_lazy

from scopes.models import Scope
from scopes.unlocks import operation_count, unlocked

# Why a scope may open no operation: the catalogue lists scopes Emporix documents outside its
# API reference (a tutorial, an example token, an endpoint's prose), which no operation of the
# route table asks for; and deprecated scopes, kept for the keys that hold them.
NO_OPERATION_NOTE = gettext_lazy(
    "Opens no operation of the route table: Emporix documents the scope (in a tutorial, an example "
    "token or an endpoint's description) but no operation of its API reference asks for it. "
    "It is kept so that a key can hold it for whatever checks it elsewhere."
)


@dataclass(frozen=True)
class HeldScope:
    name: str
    operations: int  # how many operations of the route table accept it
    deprecated: bool = False
    replaced_by: str = ""


@dataclass(frozen=True)
class ServiceScopes:
    """The scopes a key holds of one service, and the operations they open together."""

    key: str
    name: str
    scopes: tuple[HeldScope, ...]
    operations: tuple[str, ...]  # "METHOD /path", grouped by API and in the table's order

    @property
    def scope_count(self) -> int:
        return len(self.scopes)

    @property
    def operation_count(self) -> int:
        return len(self.operations)


@dataclass(frozen=True)
class ScopeSummary:
    services: tuple[ServiceScopes, ...]
    scope_count: int
    operation_count: int  # distinct operations of all its scopes
    has_no_operation_scope: bool  # one of its scopes opens nothing: the page explains why

    @property
    def service_count(self) -> int:
        return len(self.services)


# name -> (service key, service name, service position, scope position, deprecated, replaced_by)
_catalogue: dict[str, tuple] = {}
_catalogue_loaded = 0.0
_summaries: dict[tuple[str, ...], ScopeSummary] = {}
CACHE_SECONDS = 60
MAX_SUMMARIES = 2048  # distinct scope sets kept; past it the memo starts again


def clear() -> None:
    global _catalogue_loaded
    _catalogue.clear()
    _summaries.clear()
    _catalogue_loaded = 0.0


def _scope_catalogue() -> dict[str, tuple]:
    global _catalogue_loaded
    if _catalogue and time.monotonic() - _catalogue_loaded < CACHE_SECONDS:
        return _catalogue
    rows = Scope.objects.values_list(
        "name", "service__key", "service__name", "service__position", "position", "deprecated", "replaced_by"
    )
    fresh = {name: rest for name, *rest in rows}
    _catalogue.clear()
    _catalogue.update(fresh)
    _summaries.clear()
    _catalogue_loaded = time.monotonic()
    return _catalogue


def scope_summary(names: tuple[str, ...]) -> ScopeSummary:
    """The summary of a key holding `names` (memoised per distinct tuple)."""
    catalogue = _scope_catalogue()
    summary = _summaries.get(names)
    if summary is not None:
        return summary
    groups: dict[str, list[str]] = {}
    for name in names:
        service_key = catalogue[name][0] if name in catalogue else name.split(".", 1)[0]
        groups.setdefault(service_key, []).append(name)

    def service_order(key: str) -> tuple:
        first = catalogue.get(groups[key][0])
        return (first[2], first[1]) if first else (10**9, key)

    services = []
    for service_key in sorted(groups, key=service_order):
        members = sorted(groups[service_key], key=lambda n: (catalogue[n][3], n) if n in catalogue else (10**9, n))
        info = catalogue.get(members[0])
        services.append(
            ServiceScopes(
                key=service_key,
                name=info[1] if info else service_key,
                scopes=tuple(
                    HeldScope(
                        name,
                        operation_count(name),
                        bool(catalogue[name][4]) if name in catalogue else False,
                        catalogue[name][5] if name in catalogue else "",
                    )
                    for name in members
                ),
                operations=tuple(operation for group in unlocked(members) for operation in group.operations),
            )
        )
    summary = ScopeSummary(
        services=tuple(services),
        scope_count=len(names),
        operation_count=sum(len(group.operations) for group in unlocked(names)),
        has_no_operation_scope=any(scope.operations == 0 for service in services for scope in service.scopes),
    )
    if len(_summaries) >= MAX_SUMMARIES:
        _summaries.clear()
    _summaries[names] = summary
    return summary
