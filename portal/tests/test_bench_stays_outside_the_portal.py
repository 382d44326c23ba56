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
