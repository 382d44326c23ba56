"""The route table: every operation of Emporix's published APIs (scopes/data/emporix-routes.json,
650 of them) with the scopes that open it. Used by the gateway check (which route is this
request, and does the token's scope open it?), by Get started (a real route a key may call) and
by the scope picker (what a scope unlocks).

The table is read from the file once per process; nothing is stored in the database.

Matching is exact, on the raw path as the client sent it (before any decoding):
- every literal segment must be equal, case included; a `{param}` matches one whole non-empty
  segment;
- the number of segments must be equal, so a trailing slash is a different path;
- a path with `.` or `..` segments, an empty segment (`//`), an encoded slash or backslash
  (`%2F`, `%5C`) or a backslash never matches: a proxy or upstream might resolve them
  differently from this table, so they are refused rather than guessed at;
- where several templates match (`/prices/search` and `/prices/{id}`), the one with more
  literal segments from the left wins.
"""

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ROUTES_PATH = Path(__file__).resolve().parent / "data" / "emporix-routes.json"

_PARAM = re.compile(r"^\{([A-Za-z0-9_.-]+)\}$")
_UNSAFE = re.compile(r"%2[fF]|%5[cC]|\\")


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    operation_id: str
    summary: str
    token_required: bool
    any_of_scopes: tuple[str, ...]
    # One entry per segment: the literal text, or None for a parameter.
    segments: tuple[str | None, ...] = field(repr=False)
    params: tuple[str | None, ...] = field(repr=False)

    @property
    def service(self) -> str:
        """The API the operation belongs to: the path's first segment (`price`, `customer`)."""
        return self.segments[0] or ""

    @property
    def has_tenant(self) -> bool:
        return "tenant" in self.params

    def opened_by(self, scopes: frozenset[str] | set[str]) -> bool:
        """True if a token holding `scopes` may call it: no token needed, any token of the
        tenant, or one of the route's scopes."""
        return not self.token_required or not self.any_of_scopes or not scopes.isdisjoint(self.any_of_scopes)

    def example_path(self, tenant: str) -> str:
        """The path with `{tenant}` filled in and other parameters left as they are."""
        return "/" + "/".join(
            (tenant if name == "tenant" else "{" + name + "}") if literal is None else literal
            for literal, name in zip(self.segments, self.params, strict=True)
        )

    def _specificity(self) -> tuple[bool, ...]:
        return tuple(literal is not None for literal in self.segments)


@dataclass(frozen=True)
class RouteMatch:
    route: Route
    values: dict[str, str]

    @property
    def tenant(self) -> str | None:
        return self.values.get("tenant")


def split_path(path: str) -> list[str] | None:
    """The path's segments, or None if it is not one this table will match (see the module's
    docstring): no query string, no dot segments, no empty segments, nothing encoded as a
    separator."""
    path = path.split("?", 1)[0]
    if not path.startswith("/") or _UNSAFE.search(path):
        return None
    parts = path[1:].split("/")
    if any(part in ("", ".", "..") for part in parts):
        return None
    return parts


class RouteTable:
    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes
        # Candidates by method, number of segments and first segment (the service: `price`,
        # `customer`), most specific first; a route whose first segment is a parameter is a
        # candidate under every first segment, and alone under None (any other first segment).
        # A check then compares a handful of routes, not every route of that length.
        self._index: dict[tuple[str, int, str | None], list[Route]] = defaultdict(list)
        firsts = {route.segments[0] for route in routes if route.segments and route.segments[0] is not None}
        for route in sorted(routes, key=Route._specificity, reverse=True):
            first = route.segments[0] if route.segments else None
            for under in [first] if first is not None else [*firsts, None]:
                self._index[(route.method, len(route.segments), under)].append(route)
        self._by_scope: dict[str, list[Route]] = defaultdict(list)
        for route in routes:
            for scope in route.any_of_scopes:
                self._by_scope[scope].append(route)

    def __len__(self) -> int:
        return len(self.routes)

    def match(self, method: str, path: str) -> RouteMatch | None:
        """The operation that `method path` calls, with its parameter values, or None."""
        parts = split_path(path)
        if parts is None:
            return None
        method = method.upper()
        candidates = self._index.get((method, len(parts), parts[0]))
        if candidates is None:
            candidates = self._index.get((method, len(parts), None), ())
        for route in candidates:
            values: dict[str, str] = {}
            for part, literal, name in zip(parts, route.segments, route.params, strict=True):
                if literal is None:
                    values[name] = part
                elif part != literal:
                    break
            else:
                return RouteMatch(route, values)
        return None

    def opened_by_scope(self, scope: str) -> list[Route]:
        """The operations that accept `scope` (one of their any-of scopes), in file order."""
        return list(self._by_scope.get(scope, ()))


def _route(entry: dict) -> Route:
    segments: list[str | None] = []
    params: list[str | None] = []
    for part in entry["path"].lstrip("/").split("/"):
        found = _PARAM.match(part)
        segments.append(None if found else part)
        params.append(found.group(1) if found else None)
    return Route(
        method=entry["method"].upper(),
        path=entry["path"],
        operation_id=entry["operation_id"],
        summary=entry["summary"],
        token_required=bool(entry["token_required"]),
        any_of_scopes=tuple(entry["any_of_scopes"]),
        segments=tuple(segments),
        params=tuple(params),
    )


def routes_load(path: Path = ROUTES_PATH) -> RouteTable:
    data = json.loads(path.read_text(encoding="utf-8"))
    return RouteTable([_route(entry) for entry in data["operations"]])


@cache
def route_table() -> RouteTable:
    """The shipped table, read once per process."""
    return routes_load()
