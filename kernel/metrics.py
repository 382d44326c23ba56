"""The operators' Prometheus metrics (docs/metrics.md): aggregate counters and latency histograms
of the token service, the gateway check and the management API, the gateway's decisions, the
database connection pool, and whatever the apps above register to be read at scrape time (the
webhook queue), served at `/metrics` to loopback clients or with METRICS_TOKEN.

Through prometheus-client, the Prometheus project's own Python library: its multiprocess mode
adds up gunicorn's workers, which django-prometheus only reaches through the same library, and
django-prometheus labels every series by view and method and wraps the database backend, which
the portal's own (kernel/postgresql/) already is.

No label ever holds a key, a client id, a tenant, a user or a path with ids: the labels are a
component from COMPONENTS, a route name from the URLconf (the same few dozen names whatever
the traffic), an HTTP status code and a decision outcome from GATEWAY_OUTCOMES, so the number
of series stays the same however many keys and tenants call.

Under gunicorn every worker writes its values to files in PROMETHEUS_MULTIPROC_DIR (a fresh
directory per server start: gunicorn.conf.py, kernel/metricsdir.py) and a scrape, served by
any one worker, adds them up; counters of workers that have ended are kept, their gauges
dropped. Without that variable (runserver, the tests, a management command) the values live
in the process and the scrape reads them there."""

import ipaddress
import logging
import os
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.views.decorators.csrf import csrf_exempt
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    values,
)
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from .crypto import digest, digests_match

logger = logging.getLogger(__name__)

METRICS_PATH = "/metrics"


def multiprocess() -> bool:
    """True when the workers share their values through PROMETHEUS_MULTIPROC_DIR."""
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


# prometheus-client's multiprocess values call os.getpid() on every update, to notice a fork:
# a system call each, three or four per request (0.7 us each on the benchmark's machine, about
# a third of what the middleware costs: bench/metrics_overhead.py). The library takes the
# process id from a function it is given; this one reads it once, and again after a fork.
_pid = os.getpid()


def _forked() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_forked)
if multiprocess():
    values.ValueClass = values.MultiProcessValue(process_identifier=lambda: _pid)
# The `_created` series (when each labelled series began) double the series for what Prometheus
# infers from counter resets anyway; the multiprocess mode has none, and one process neither.
disable_created_metrics()

# The parts of the portal that requests are counted for, by path prefix; "pages" is everything
# else (the portal's own pages), counted as one route.
COMPONENTS = (
    ("/oauth/", "token"),
    ("/customerlogin/", "token"),
    ("/.well-known/", "token"),
    ("/gateway/", "gateway"),
    ("/api/", "api"),
)
PAGES = "pages"
# The route of a request that matched no URL pattern.
UNMATCHED = "unmatched"

# What the gateway check decided, by the status it answered with (gateway/decisions.py).
GATEWAY_OUTCOMES = {
    200: "allowed",
    400: "bad_request",
    401: "unauthenticated",  # no token, or an invalid, expired or revoked one
    403: "forbidden",  # a scope missing, or another tenant's path
    404: "unknown_route",
    429: "rate_limited",
    503: "unavailable",
}
GATEWAY_OTHER = "error"

# From a millisecond (a token from the fast path) to ten seconds (a database timeout).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "portal_http_requests",
    "Requests answered, by component, route and status code.",
    ["component", "route", "status"],
)
LATENCY = Histogram(
    "portal_http_request_duration_seconds",
    "Time from the request reaching the portal to its response being ready, by component and route.",
    ["component", "route"],
    buckets=LATENCY_BUCKETS,
)
GATEWAY_DECISIONS = Counter(
    "portal_gateway_decisions",
    "Gateway check decisions, by outcome.",
    ["outcome"],
)

# The database connection pool of each worker (psycopg_pool), summed over the live workers.
POOL_SIZE = Gauge(
    "portal_db_pool_connections", "Connections the pools hold open.", ["alias"], multiprocess_mode="livesum"
)
POOL_IDLE = Gauge(
    "portal_db_pool_idle_connections", "Open connections waiting in the pools.", ["alias"], multiprocess_mode="livesum"
)
POOL_MAX = Gauge("portal_db_pool_max_connections", "The pools' maximum sizes.", ["alias"], multiprocess_mode="livesum")
POOL_WAITING = Gauge(
    "portal_db_pool_waiting_requests",
    "Threads waiting for a connection now.",
    ["alias"],
    multiprocess_mode="livesum",
)
POOL_COUNTERS = {  # psycopg_pool's statistic -> (counter, factor to the counter's unit)
    "requests_num": (Counter("portal_db_pool_requests", "Connections asked of the pools.", ["alias"]), 1),
    "requests_queued": (
        Counter("portal_db_pool_queued_requests", "Connections asked that had to wait.", ["alias"]),
        1,
    ),
    "requests_wait_ms": (
        Counter("portal_db_pool_wait_seconds", "Time spent waiting for a connection.", ["alias"]),
        0.001,
    ),
    "requests_errors": (
        Counter("portal_db_pool_request_errors", "Connections asked that timed out or failed.", ["alias"]),
        1,
    ),
    "connections_errors": (
        Counter("portal_db_pool_connection_errors", "Failed attempts to open a connection.", ["alias"]),
        1,
    ),
    "connections_lost": (
        Counter("portal_db_pool_lost_connections", "Connections found dead by a check.", ["alias"]),
        1,
    ),
}
# How often each worker copies its pools' statistics into its metric files (multiprocess mode).
POOL_SAMPLE_SECONDS = 5.0


# --- Requests ---------------------------------------------------------------------------------


def component_of(path: str) -> str | None:
    """The component a path belongs to; None for /metrics itself, which is not counted."""
    for prefix, component in COMPONENTS:
        if path.startswith(prefix):
            return component
    return None if path == METRICS_PATH else PAGES


def route_of(request: HttpRequest, component: str) -> str:
    """The name of the URL pattern that answered: one of the URLconf's, never the path. The
    few unnamed patterns (the token service's trailing-slash aliases, the API's catch-all) go
    by their namespace and view function, so that an alias counts with its named twin."""
    if component == PAGES:
        return PAGES
    match = request.resolver_match
    if match is None:
        return UNMATCHED
    if match.url_name:
        return match.view_name
    return f"{match.namespace}:{match._func_path.rpartition('.')[2]}"


# The labelled children, kept per label set (a fixed number of them), so that a request costs
# two dictionary lookups and the updates themselves.
_counters: dict[tuple[str, str, int], Counter] = {}
_histograms: dict[tuple[str, str], Histogram] = {}
_decisions: dict[int, Counter] = {}


def request_counted(component: str, route: str, status: int, elapsed: float) -> None:
    """Count one answered request of `component` and `route` and its time (seconds): what
    MetricsMiddleware records, and what an answer given before Django records for itself
    (gateway/fastlane.py)."""
    counter = _counters.get((component, route, status))
    if counter is None:
        counter = _counters[(component, route, status)] = REQUESTS.labels(component, route, str(status))
    counter.inc()
    histogram = _histograms.get((component, route))
    if histogram is None:
        histogram = _histograms[(component, route)] = LATENCY.labels(component, route)
    histogram.observe(elapsed)
    if component == "gateway":
        decisions = _decisions.get(status)
        if decisions is None:
            decisions = _decisions[status] = GATEWAY_DECISIONS.labels(GATEWAY_OUTCOMES.get(status, GATEWAY_OTHER))
        decisions.inc()


class MetricsMiddleware:
    """Outermost: counts every request and times it, with the time the other middleware take."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        component = component_of(request.path_info)
        if component is None:
            return self.get_response(request)
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        request_counted(component, route_of(request, component), response.status_code, elapsed)
        return response


# --- The database pool ------------------------------------------------------------------------

_pool_lock = threading.Lock()
_pool_seen: dict[str, dict[str, int]] = {}  # alias -> the pool's counters when last sampled
_sampler_pid = 0


def _pools() -> dict:
    """This process's psycopg pools by database alias (Django keeps them on its backend class);
    none on SQLite or with DATABASE_POOL_MAX_SIZE=0."""
    from django.db.backends.postgresql.base import DatabaseWrapper

    return dict(DatabaseWrapper._connection_pools)


def pool_sample() -> None:
    """Copy the pools' current statistics into the metrics: the sizes as gauges, and what the
    pool counters grew by since the last sample added to ours (a counter never goes back, and
    a worker's counts stay after it ends)."""
    with _pool_lock:
        for alias, pool in _pools().items():
            stats = pool.get_stats()
            POOL_SIZE.labels(alias).set(stats.get("pool_size", 0))
            POOL_IDLE.labels(alias).set(stats.get("pool_available", 0))
            POOL_MAX.labels(alias).set(stats.get("pool_max", 0))
            POOL_WAITING.labels(alias).set(stats.get("requests_waiting", 0))
            seen = _pool_seen.setdefault(alias, {})
            for name, (counter, factor) in POOL_COUNTERS.items():
                value = stats.get(name, 0)
                grown = value - seen.get(name, 0)
                if grown > 0:
                    counter.labels(alias).inc(grown * factor)
                seen[name] = value


def _sample_forever() -> None:
    while True:
        time.sleep(POOL_SAMPLE_SECONDS)
        try:
            pool_sample()
        except Exception:
            logger.exception("metrics: sampling the database pool failed")


def worker_started() -> None:
    """In a gunicorn worker (gunicorn.conf.py post_worker_init): sample the pools now and every
    POOL_SAMPLE_SECONDS, so that a scrape served by another worker reads this one's too."""
    global _sampler_pid
    if not multiprocess() or _sampler_pid == os.getpid():
        return
    _sampler_pid = os.getpid()
    pool_sample()
    threading.Thread(target=_sample_forever, name="metrics-pool-sampler", daemon=True).start()


# --- Read at scrape time ----------------------------------------------------------------------

_scrape_collectors: dict[str, Collector] = {}


def scrape_collector_register(name: str, collector: Collector) -> None:
    """Add a collector whose `collect()` runs on every scrape, from an AppConfig.ready() (the
    webhook queue: webhooks/metrics.py). It answers for the whole portal, so it runs in the one
    process that serves the scrape; it must be cheap (a query or two), label nothing per key or
    tenant, and yield nothing rather than fail when the database does not answer."""
    _scrape_collectors[name] = collector


class _ProcessRegistry(Collector):
    """The values of this process (single-process mode)."""

    def collect(self):
        return REGISTRY.collect()


def exposition() -> bytes:
    """The text a scrape gets: every worker's values (or this process's), then the collectors
    read at scrape time."""
    pool_sample()
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess():
        MultiProcessCollector(registry)
    else:
        registry.register(_ProcessRegistry())
    for collector in _scrape_collectors.values():
        registry.register(collector)
    return generate_latest(registry)


# --- Access -----------------------------------------------------------------------------------

# Headers a proxy adds to what it relays: a request carrying one came from further away than
# its peer, even when that peer is a proxy on this host (deploy/nginx/ sets X-Forwarded-For).
FORWARDING_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


def from_loopback(request: HttpRequest) -> bool:
    """The peer of the connection (REMOTE_ADDR, never a header) is on this host (127.0.0.0/8,
    ::1, or 127.x as an IPv4-mapped address), and no proxy says it relayed the request for
    someone else."""
    try:
        peer = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    if peer.version == 6 and peer.ipv4_mapped is not None:
        peer = peer.ipv4_mapped
    if not peer.is_loopback:
        return False
    forwarded = (
        (*FORWARDING_HEADERS, settings.TRUSTED_PROXY_HEADER) if settings.TRUSTED_PROXY_HEADER else FORWARDING_HEADERS
    )
    return not any(name in request.headers for name in forwarded)


def bearer_allowed(request: HttpRequest, authorization: str) -> bool:
    """`Authorization: Bearer <METRICS_TOKEN>`, compared in constant time (as digests, so that
    neither length nor content shows in the timing); over HTTPS where the portal requires it."""
    expected = settings.METRICS_TOKEN
    scheme, _, presented = authorization.partition(" ")
    if not expected or scheme.lower() != "bearer":
        return False
    if settings.SECURE_SSL_REDIRECT and not request.is_secure():
        return False  # the token crossed in clear
    return digests_match(digest(presented.strip()), digest(expected))


def allowed(request: HttpRequest) -> bool:
    """A request that presents a token is judged by the token alone, from anywhere; one without
    is let in from loopback only."""
    authorization = request.headers.get("Authorization")
    if authorization is not None:
        return bearer_allowed(request, authorization)
    return from_loopback(request)


@csrf_exempt  # a GET, and no session is read (kernel.middleware.TOKEN_SERVICE_PREFIXES)
@login_not_required
def metrics(request: HttpRequest) -> HttpResponse:
    """The Prometheus text format, to loopback clients and bearers of METRICS_TOKEN; anyone
    else gets the portal's 404, as for a page that does not exist, whatever the method (a 405
    would say that something is there)."""
    if not allowed(request):
        raise Http404("No such page.")
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})
