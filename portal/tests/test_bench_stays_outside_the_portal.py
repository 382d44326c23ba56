"""bench/ serves its yardstick from its own settings and URLconf (bench/settings.py,
bench/urls.py). The portal never routes to it and no module of the portal imports it."""

import ast
from pathlib import Path

from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver

ROOT = Path(__file__).resolve().parents[2]
SKIPPED = {"bench", ".venv", "staticfiles", "node_modules"}


def _views(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _views(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def _imported_modules(path: Path):
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def test_the_portal_urlconf_has_no_bench_route():
    assert settings.ROOT_URLCONF == "portal.urls"
    routes = list(_views(get_resolver().url_patterns))
    assert routes, "the walk found no route at all"
    for route, view in routes:
        assert not route.startswith("bench"), route
        assert not view.__module__.startswith("bench"), (route, view.__module__)


def test_no_module_outside_bench_imports_bench():
    sources = [
        path
        for path in ROOT.rglob("*.py")
        if not SKIPPED.intersection(path.relative_to(ROOT).parts)
        and not any(part.startswith(".") for part in path.relative_to(ROOT).parts)
    ]
    assert any(path.parts[-2:] == ("portal", "urls.py") for path in sources)
    offenders = [
        str(path.relative_to(ROOT))
        for path in sources
        for module in _imported_modules(path)
        if module == "bench" or module.startswith("bench.")
    ]
    assert offenders == []
