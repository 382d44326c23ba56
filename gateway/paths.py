"""Which route table entry a proxied request calls, refusing paths that only look like one.

The route table (scopes/routes.py) matches exactly and refuses dot segments, empty segments
(a trailing slash) and encoded slashes or backslashes. The gateway refuses two more kinds of
path, whatever the mode, because the API behind the proxy may read them as a route of the table
while the table does not:
- a segment that percent-decodes to `.` or `..` (`%2e%2e`): an upstream that decodes before it
  resolves dot segments would walk out of the path that was checked;
- a path that is the path of a route of the table (for any method) once percent-decoded,
  lower-cased and stripped of `;parameters` or of a `.suffix` on its last segment
  (`/PRICE/demo/prices`, `/pr%69ce/demo/prices`, `/price/demo/prices;x`,
  `/price/demo/prices.json`): an upstream that is case-insensitive, decodes, drops path
  parameters or reads a suffix as the response format (Spring's suffix patterns, Rails'
  `.:format`) would serve that route.

For a path the table does not know, `lookup` also says whether it is a route's own path (with
a method the table does not list for it) and which tenant it names: the segment where the
table's routes under the same leading segments have `{tenant}` (`/tax/bravo/anything` names
`bravo`, as `/tax/{tenant}/taxes` does), unless a route there has a literal in that place
(`/reward-points/customer/...` is not tenant `customer`).
"""

from dataclasses import dataclass, replace
from functools import cache
from urllib.parse import unquote

from scopes.routes import RouteMatch, RouteTable, route_table, split_path


@dataclass(frozen=True, slots=True)
class Lookup:
    """What the gateway makes of a method and path: `match` is the route (None if the table
    has none); `refused` says why the path is refused outright, or is empty."""

    match: RouteMatch | None
    refused: str = ""
    # For a path the table does not know (match None, not refused): True if it is a route's
    # path with a method the table does not list for it; the tenants its tenant segments name.
    known_path: bool = False
    tenants: frozenset[str] = frozenset()


UNSAFE = "The path has dot segments, empty segments or encoded separators; the gateway does not guess what they mean."
DISGUISED = "The path differs from a known route only in case, encoding, path parameters or a suffix."


def _normal(segment: str) -> str:
    return unquote(segment).split(";", 1)[0].lower()


def _unsuffixed(segment: str) -> str:
    """The segment without a `.suffix` (`taxes.json` -> `taxes`), as suffix pattern matching
    reads it: from the first dot, which is how Spring's `.*` suffix pattern matches."""
    return segment.split(".", 1)[0]


@cache
def _tenant_places() -> tuple[tuple[tuple[str | None, ...], frozenset[str]], ...]:
    """Where the table's paths have `{tenant}`: for each run of leading segments before one
    (a literal, or None for a parameter), the literals that routes sharing those leading
    segments have in the tenant's place (which are not tenants there)."""
    table = route_table()
    leads = {route.segments[: route.params.index("tenant")] for route in table.routes if route.has_tenant}
    places = []
    for lead in sorted(leads, key=lambda lead: tuple(part or "" for part in lead)):
        literals = {
            route.segments[len(lead)]
            for route in table.routes
            if len(route.segments) > len(lead)
            and route.segments[len(lead)] is not None
            and all(want is None or want == have for want, have in zip(lead, route.segments, strict=False))
        }
        places.append((lead, frozenset(literals)))
    return tuple(places)


def _tenants_named(parts: list[str]) -> frozenset[str]:
    """The tenants a path the table does not know names in the places the table has
    `{tenant}` (see the module's docstring). The leading segments are compared as an upstream
    that is case-insensitive or decodes might read them (`/TAX/bravo/x` names bravo too); the
    tenant is the segment exactly as written, so that only the token's own code, in its own
    spelling, passes."""
    normal = [_normal(part) for part in parts]
    named = set()
    for lead, literals in _tenant_places():
        if len(parts) <= len(lead):
            continue
        same_lead = all(want is None or want.lower() == have for want, have in zip(lead, normal, strict=False))
        if same_lead and normal[len(lead)] not in {literal.lower() for literal in literals}:
            named.add(parts[len(lead)])
    return frozenset(named)


@cache
def _folded_table() -> RouteTable:
    """The table with every literal segment lower-cased, to find disguised routes."""
    table = route_table()
    return RouteTable(
        [replace(route, segments=tuple(s.lower() if s else s for s in route.segments)) for route in table.routes]
    )


@cache
def _methods() -> frozenset[str]:
    return frozenset(route.method for route in route_table().routes)


def lookup(method: str, raw_path: str) -> Lookup:
    """The route that `method raw_path` calls (the path as the client sent it, query string
    allowed), or why the path is refused. HEAD is matched as GET where the table has no HEAD."""
    method = method.upper()
    path = raw_path.split("?", 1)[0]
    parts = split_path(path)
    if parts is None or any(unquote(part) in (".", "..") for part in parts):
        return Lookup(None, UNSAFE)
    table = route_table()
    match = table.match(method, path)
    if match is None and method == "HEAD":
        match = table.match("GET", path)
    if match is not None:
        return Lookup(match)
    normal = [_normal(part) for part in parts]
    if any(part in ("", ".", "..") or "/" in part or "\\" in part for part in normal):
        return Lookup(None, UNSAFE)
    if any(table.match(other, path) for other in _methods()):
        # A route's own path, with a method the table does not list.
        return Lookup(None, known_path=True, tenants=_tenants_named(parts))
    folded = _folded_table()
    normal_path = "/" + "/".join(normal)
    unsuffixed_path = "/" + "/".join([*normal[:-1], _unsuffixed(normal[-1])])
    for candidate in {normal_path, unsuffixed_path}:
        if split_path(candidate) is not None and any(folded.match(other, candidate) for other in _methods()):
            return Lookup(None, DISGUISED)
    return Lookup(None, tenants=_tenants_named(parts))
