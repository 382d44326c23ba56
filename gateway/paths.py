"""Which route table entry a proxied request calls, refusing paths that only look like one.

The route table (scopes/routes.py) matches exactly and refuses dot segments, empty segments
(a trailing slash) and encoded slashes or backslashes. The gateway refuses two more kinds of
path, whatever the mode, because the API behind the proxy may read them as a route of the table
while the table does not:
- a segment that percent-decodes to `.` or `..` (`%2e%2e`): an upstream that decodes before it
  resolves dot segments would walk out of the path that was checked;
- a path that is the path of a route of the table (for any method) once percent-decoded,
  lower-cased and stripped of `;parameters` (`/PRICE/demo/prices`, `/pr%69ce/demo/prices`,
  `/price/demo/prices;x`): an upstream that is case-insensitive, decodes, or drops path
  parameters would serve that route.
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


UNSAFE = "The path has dot segments, empty segments or encoded separators; the gateway does not guess what they mean."
DISGUISED = "The path differs from a known route only in case, encoding or path parameters."


def _normal(segment: str) -> str:
    return unquote(segment).split(";", 1)[0].lower()


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
        return Lookup(None)  # a route's own path, with a method the table does not list
    folded = _folded_table()
    normal_path = "/" + "/".join(normal)
    if any(folded.match(other, normal_path) for other in _methods()):
        return Lookup(None, DISGUISED)
    return Lookup(None)
