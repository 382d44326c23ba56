"""The apps' layering, held by a test: it reads the imports of every module that is not a test
and fails on an import that crosses a layer the wrong way.

    scopes            the catalogue: knows no keys, tenants or token service
    tenants           knows no token service
    apikeys           knows no token service; `apikeys.auth` is its public face to it
    oauth             reaches the keys app only through `apikeys.auth` (and its models, for
                      foreign keys: in `oauth/models.py` only)
    notifications     mails to tenant admins: knows tenants and accounts, no keys, webhooks or
                      token service
    webhooks          knows no token service; reaches the keys app only for its cryptography
                      (`apikeys.crypto`, `apikeys.canary`); the activity log reaches it only
                      through `webhooks.outbox`, and nothing else of the portal imports it
    gateway           the gateway check: reaches the token service only through `oauth.bearer`
                      and the keys app only through `apikeys.auth`; no app imports it
    bench             the benchmark: no app imports it
    api               the management API: no app imports it (it calls the apps' services)
"""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = (
    "accounts",
    "activity",
    "api",
    "apikeys",
    "gateway",
    "notifications",
    "oauth",
    "portal",
    "scopes",
    "tenants",
    "webhooks",
)

# (importing app, imported module prefix, modules of that prefix that are allowed anyway)
FORBIDDEN: list[tuple[str, str, frozenset[str]]] = [
    ("scopes", "apikeys", frozenset()),
    ("scopes", "tenants", frozenset()),
    ("scopes", "oauth", frozenset()),
    ("apikeys", "oauth", frozenset()),
    ("tenants", "oauth", frozenset()),
    ("oauth", "apikeys", frozenset({"apikeys.auth"})),
    ("notifications", "apikeys", frozenset()),
    ("notifications", "webhooks", frozenset()),
    ("notifications", "oauth", frozenset()),
    ("webhooks", "oauth", frozenset()),
    ("webhooks", "apikeys", frozenset({"apikeys.crypto", "apikeys.canary"})),
    ("activity", "webhooks", frozenset({"webhooks.outbox"})),
    *((app, "webhooks", frozenset()) for app in APPS if app not in ("activity", "webhooks")),
    ("gateway", "oauth", frozenset({"oauth.bearer"})),
    ("gateway", "apikeys", frozenset({"apikeys.auth"})),
    ("gateway", "tenants", frozenset()),
    ("gateway", "accounts", frozenset()),
    *((app, "gateway", frozenset()) for app in APPS if app != "gateway"),
    *((app, "bench", frozenset()) for app in APPS),
    *((app, "api", frozenset()) for app in APPS if app != "api"),
]


def _is_test(path: Path) -> bool:
    return "tests" in path.parts or path.name.startswith("test_") or path.name == "conftest.py"


def modules() -> Iterator[tuple[str, Path]]:
    """(app, path) of every non-test Python module of the portal's apps."""
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if not _is_test(path.relative_to(ROOT)):
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


# Modules allowed one more import than their app: the token service's models point at the keys
# app's models with foreign keys.
ALSO_ALLOWED: dict[str, frozenset[str]] = {"oauth/models.py": frozenset({"apikeys.models"})}


def violations(app: str, source: str, module: str = "") -> list[str]:
    found = []
    for importer, prefix, allowed in FORBIDDEN:
        if importer != app:
            continue
        allowed = allowed | ALSO_ALLOWED.get(module, frozenset())
        for name in sorted(imported(source)):
            if (name == prefix or name.startswith(prefix + ".")) and name not in allowed:
                # `from apikeys.auth import x` yields apikeys.auth.x: allowed with its module.
                if not any(name.startswith(module + ".") for module in allowed):
                    found.append(f"{app} imports {name}")
    return found


def test_no_module_crosses_a_layer():
    problems = [
        f"{path.relative_to(ROOT)}: {problem}"
        for app, path in modules()
        for problem in violations(app, path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix())
    ]
    assert problems == []


def test_every_app_is_read():
    read = {app for app, _ in modules()}
    assert read == set(APPS)


# The checker itself: each rule catches the import it forbids, however it is written.
@pytest.mark.parametrize(
    ("app", "source"),
    [
        ("scopes", "from apikeys.models import ApiKey"),
        ("scopes", "import tenants.models"),
        ("scopes", "def f():\n    from oauth import services"),
        ("apikeys", "from oauth.models import AccessToken"),
        ("tenants", "from oauth import views"),
        ("oauth", "from apikeys.services import key_create"),
        ("oauth", "from apikeys import crypto"),
        ("oauth", "import apikeys.services"),
        ("oauth", "from apikeys.models import ApiSecret"),
        ("apikeys", "from bench.baseline import baseline"),
        ("portal", "import bench"),
        ("webhooks", "from apikeys.services import key_create"),
        ("activity", "from webhooks.delivery import deliver_due"),
        ("apikeys", "from webhooks.models import Endpoint"),
        ("notifications", "from webhooks.models import Endpoint"),
        ("gateway", "from oauth.services import introspect"),
        ("gateway", "from apikeys.models import ApiKey"),
        ("gateway", "from tenants.models import Tenant"),
        ("oauth", "from gateway.decisions import tokens"),
        ("portal", "from gateway import views"),
    ],
)
def test_the_check_catches_a_forbidden_import(app, source):
    assert violations(app, source) != []


@pytest.mark.parametrize(
    ("app", "source"),
    [
        ("oauth", "from apikeys.auth import key_verify, VerifiedKey"),
        ("oauth", "from apikeys.auth import ApiKey, KeyKind"),
        ("oauth", "from apikeys import auth"),
        ("tenants", "from apikeys.services import key_create"),
        ("scopes", "from django.db import models"),
        ("webhooks", "from apikeys import crypto"),
        ("activity", "from webhooks.outbox import event_record"),
        ("gateway", "from oauth.bearer import bearer_verify"),
        ("gateway", "from apikeys.auth import token_digest"),
        ("gateway", "from scopes.routes import route_table"),
    ],
)
def test_the_check_allows_the_public_ways(app, source):
    assert violations(app, source) == []


def test_only_the_token_services_models_import_the_keys_models():
    assert violations("oauth", "from apikeys.models import ApiKey, ApiSecret", "oauth/models.py") == []
    assert violations("oauth", "from apikeys.models import ApiSecret", "oauth/bearer.py") != []
