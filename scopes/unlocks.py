"""What a set of scopes unlocks: the operations of the route table (scopes/routes.py) that
accept one of them, so that the scope picker can show an admin the blast radius of a key
before it is generated or saved. Read-only and computed from the table in process memory."""

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from .routes import Route, route_table


@dataclass(frozen=True)
class ServiceOperations:
    """The operations of one API (the path's first segment) that a set of scopes opens."""

    service: str
    operations: list[str]  # "METHOD /path", in the table's order


@dataclass(frozen=True)
class ScopeDiff:
    """What saving a key's new scopes changes: scopes and operations added and removed."""

    added: list[str]
    removed: list[str]
    gained: list[ServiceOperations]
    lost: list[ServiceOperations]

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)

    @property
    def gained_count(self) -> int:
        return sum(len(group.operations) for group in self.gained)

    @property
    def lost_count(self) -> int:
        return sum(len(group.operations) for group in self.lost)


def operation_label(route: Route) -> str:
    return f"{route.method} {route.path}"


def _opened(names: Iterable[str]) -> list[Route]:
    """The routes any of `names` opens, each once, in the table's order."""
    table = route_table()
    opened = {id(route) for name in names for route in table.opened_by_scope(name)}
    return [route for route in table.routes if id(route) in opened]


def _grouped(routes: list[Route]) -> list[ServiceOperations]:
    groups: dict[str, list[str]] = {}
    for route in routes:
        groups.setdefault(route.service, []).append(operation_label(route))
    return [ServiceOperations(service, groups[service]) for service in sorted(groups)]


def unlocked(names: Iterable[str]) -> list[ServiceOperations]:
    """The operations a key holding `names` may call because of them, grouped by service."""
    return _grouped(_opened(names))


def operation_count(name: str) -> int:
    return len(route_table().opened_by_scope(name))


def scope_diff(before: Iterable[str], after: Iterable[str]) -> ScopeDiff:
    """Scopes added and removed, and the operations gained and lost. An operation another
    kept scope still opens is neither gained nor lost (a route accepts any one of its scopes)."""
    before, after = set(before), set(after)
    old = {id(route) for route in _opened(before)}
    new = {id(route) for route in _opened(after)}
    routes = route_table().routes
    return ScopeDiff(
        added=sorted(after - before),
        removed=sorted(before - after),
        gained=_grouped([route for route in routes if id(route) in new - old]),
        lost=_grouped([route for route in routes if id(route) in old - new]),
    )


@cache
def unscoped_count() -> int:
    """Operations that need a token of the tenant but no particular scope: any key opens them."""
    return sum(1 for route in route_table().routes if route.token_required and not route.any_of_scopes)


@cache
def picker_data() -> dict:
    """The table, compactly, for scope-picker.js: `operations` as "METHOD /path" strings and
    `scopes` mapping each scope name to the indexes of the operations it opens."""
    table = route_table()
    operations: list[str] = []
    index: dict[int, int] = {}
    scopes: dict[str, list[int]] = {}
    for route in table.routes:
        for name in route.any_of_scopes:
            if id(route) not in index:
                index[id(route)] = len(operations)
                operations.append(operation_label(route))
            scopes.setdefault(name, []).append(index[id(route)])
    return {"operations": operations, "scopes": scopes}
