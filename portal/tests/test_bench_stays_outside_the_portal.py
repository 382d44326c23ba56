"""bench/ serves its yardstick from its own settings and URLconf (bench/settings.py,
bench/urls.py). The portal never routes to it (and no app imports it: test_layering.py)."""

from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver


def _views(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _views(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def test_the_portal_urlconf_has_no_bench_route():
    assert settings.ROOT_URLCONF == "portal.urls"
    routes = list(_views(get_resolver().url_patterns))
    assert routes, "the walk found no route at all"
    for route, view in routes:
        assert not route.startswith("bench"), route
        assert not view.__module__.startswith("bench"), (route, view.__module__)


def test_the_bench_floor_loads_its_apps():
    """The floor installs only what the token path's models need (bench/settings.py); a new
    import on that path that needs another app shows here, not first in `make bench`."""
    import subprocess
    import sys
    from pathlib import Path

    code = "import django; django.setup(); import bench.views, bench.urls; print('ok')"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DATABASE_URL": "sqlite:////tmp/bench-floor-check.sqlite3",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "ok", result.stderr[-2000:]
