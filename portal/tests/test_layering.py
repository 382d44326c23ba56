"""The apps' layering, held by a test. It reads the imports of every module that is not a test or
a migration (function-level imports and `if TYPE_CHECKING:` imports included) and fails on

- an import of an app from a lower layer (an upward import), and
- an app-level import cycle, found as a strongly connected component of the apps' import graph
  (so apps within one layer may import each other, but never both ways, however long the loop).

The layers, bottom to top (docs/architecture.md says the same, and why):

    kernel         infrastructure that knows no domain: database helpers and the PostgreSQL
                   backend, logging, network helpers, rate limits, outages, health, dates, mail
                   helpers, error pages, and all cryptography (kernel.crypto), the sealed-store
                   registry and the encryption canaries
    domain base    accounts and scopes; then activity (the log, which knows no key or tenant
                   model); then tenants; then notifications (mail to tenant admins)
    keys           apikeys; `apikeys.auth` is its verification interface to the token service
    token service  oauth
    top            gateway, api (the management API), webhooks

`portal` (settings, URLconf, WSGI) is wiring: it may import anything and nothing imports it.
`bench` stands outside: nothing of the portal imports it. A lower layer hears of an upper one
only through a signal or registry it defines itself (tenants.signals, activity.signals,
kernel.crypto.sealed_register, accounts.page, tenants.lists).
"""

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

LAYERS: list[tuple[str, ...]] = [
    ("kernel",),
    # The domain base, itself in steps: the activity log is below the tenants, whose services
    # record to it, and the notifications are above them, since they mail a tenant's admins.
    ("accounts", "scopes"),
    ("activity",),
    ("tenants",),
    # Single sign-on per tenant (issue 24): above the tenants and accounts it fits together.
    ("notifications", "sso"),
    ("apikeys",),
    ("oauth",),
    # What each key did (issue 21): counted by kernel.usage on the hot paths, rolled up here,
    # shown on the keys' pages through the keys app's hooks and by the API.
    ("usage",),
    ("gateway", "api", "webhooks"),
]
LAYER_OF: dict[str, int] = {app: level for level, apps in enumerate(LAYERS) for app in apps}
WIRING = "portal"
OUTSIDE = "bench"
APPS = (*LAYER_OF, WIRING)
# Nothing below the keys may import them (the issue that set these layers asked it by name).
BELOW_KEYS = frozenset(app for app, level in LAYER_OF.items() if level < LAYER_OF["apikeys"])


def _is_test_or_migration(path: Path) -> bool:
    parts = path.parts
    return "tests" in parts or "migrations" in parts or path.name.startswith("test_") or path.name == "conftest.py"


def modules() -> Iterator[tuple[str, Path]]:
    """(app, path) of every Python module of the portal's apps that is not a test or migration."""
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if not _is_test_or_migration(path.relative_to(ROOT)):
                yield app, path


def imported(source: str) -> set[str]:
    """Every absolute name a source imports, at any depth (function-level imports too):
    `import a.b` gives a.b, `from a.b import c` gives a.b.c (c may be a module or a name)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def app_edges(app: str, source: str) -> set[str]:
    """The other apps of the portal (and bench) that `source`, a module of `app`, imports."""
    tops = {name.split(".")[0] for name in imported(source)}
    return {top for top in tops if top != app and (top in APPS or top == OUTSIDE)}


def violations(app: str, source: str) -> list[str]:
    """Upward imports of a module of `app`, and any import of the wiring or the benchmark."""
    found = []
    for target in sorted(app_edges(app, source)):
        if target in (WIRING, OUTSIDE):
            if app != WIRING or target == OUTSIDE:
                found.append(f"{app} imports {target}, which no app may import")
        elif app != WIRING and LAYER_OF[target] > LAYER_OF[app]:
            found.append(f"{app} (layer {LAYER_OF[app]}) imports {target} (layer {LAYER_OF[target]})")
    return found


def graph(sources: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    """The apps' import graph from (app, source) pairs; the wiring is left out (it imports
    everything by design, and nothing imports it)."""
    edges: dict[str, set[str]] = {}
    for app, source in sources:
        if app == WIRING:
            continue
        edges.setdefault(app, set()).update(t for t in app_edges(app, source) if t not in (WIRING, OUTSIDE))
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one app (Tarjan's algorithm): each is
    a set of apps that import each other round a loop."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    nodes = sorted(set(edges) | {t for targets in edges.values() for t in targets})

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in nodes:
        if node not in index:
            visit(node)
    return found


def _sources() -> list[tuple[str, str]]:
    return [(app, path.read_text(encoding="utf-8")) for app, path in modules()]


def test_no_module_imports_a_layer_above_its_own():
    problems = [
        f"{path.relative_to(ROOT)}: {problem}"
        for app, path in modules()
        for problem in violations(app, path.read_text(encoding="utf-8"))
    ]
    assert problems == []


def test_the_apps_import_graph_has_no_cycle():
    assert cycles(graph(_sources())) == []


def test_no_app_below_the_keys_imports_them():
    importers = sorted({app for app, source in _sources() if app in BELOW_KEYS and "apikeys" in app_edges(app, source)})
    assert importers == []


def test_the_keys_verification_interface_re_exports_no_cryptography():
    source = (ROOT / "apikeys" / "auth.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    assert not any(isinstance(node, ast.Assign) and "__all__" in ast.unparse(node.targets) for node in tree.body)
    from_crypto = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "kernel.crypto"
        for alias in node.names
    ]
    assert from_crypto == []  # it uses `crypto.x` from `from kernel import crypto`, naming nothing for others


def test_every_app_is_read_and_placed():
    read = {app for app, _ in modules()}
    assert read == set(APPS)
    on_disk = {p.parent.name for p in ROOT.glob("*/apps.py")}
    assert on_disk <= set(APPS) | {OUTSIDE}, "a new app needs a place in LAYERS"


# The checker itself.
@pytest.mark.parametrize(
    ("app", "source"),
    [
        ("kernel", "from accounts.models import User"),
        ("kernel", "def f():\n    from apikeys.models import ApiSecret"),
        ("scopes", "from apikeys.models import ApiKey"),
        ("tenants", "from apikeys.services import key_create"),
        ("activity", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from apikeys.models import ApiKey"),
        ("activity", "from webhooks.outbox import event_record"),
        ("accounts", "import notifications.services"),
        ("apikeys", "from oauth.models import AccessToken"),
        ("oauth", "from gateway.decisions import tokens"),
        ("oauth", "from api import views"),
        ("webhooks", "from portal import urls"),
        ("apikeys", "from bench.baseline import baseline"),
        ("kernel", "import bench"),
    ],
)
def test_the_check_catches_an_upward_import(app, source):
    assert violations(app, source) != []


@pytest.mark.parametrize(
    ("app", "source"),
    [
        ("oauth", "from apikeys.auth import key_verify, VerifiedKey"),
        ("oauth", "from kernel.crypto import digest"),
        ("tenants", "from activity.services import activity_record"),
        ("apikeys", "from tenants.signals import tenant_created"),
        ("webhooks", "from activity.signals import activity_recorded"),
        ("gateway", "from oauth.bearer import bearer_verify"),
        ("api", "from apikeys.services import key_create"),
        ("portal", "from tenants.views import home"),
        ("scopes", "from django.db import models"),
        ("kernel", "from django.conf import settings"),
    ],
)
def test_the_check_allows_imports_downward_and_within_a_layer(app, source):
    assert violations(app, source) == []


def test_the_cycle_check_finds_a_loop_within_a_layer_and_across_layers():
    # Two apps of one layer importing each other: allowed by the layer rule, caught here.
    assert cycles(
        graph([("tenants", "from notifications.services import x"), ("notifications", "import tenants")])
    ) == [["notifications", "tenants"]]
    # A longer loop, through a function-level import.
    loop = graph(
        [
            ("accounts", "def f():\n    from tenants.models import Membership"),
            ("tenants", "from activity.audit import Audit"),
            ("activity", "from accounts.models import User"),
            ("scopes", "from kernel import db"),
        ]
    )
    assert cycles(loop) == [["accounts", "activity", "tenants"]]
    # The wiring imports everything and closes no loop.
    assert cycles(graph([("portal", "import tenants"), ("tenants", "from kernel import net")])) == []


def test_the_cycle_check_catches_a_cycle_added_to_the_real_tree():
    """Adding one upward import to the real sources closes a loop that the check reports."""
    sources = [*_sources(), ("kernel", "def f():\n    from accounts import models")]
    assert ["accounts", "kernel"] in cycles(graph(sources))
