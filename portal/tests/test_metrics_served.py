"""/metrics served as `make run` serves it: gunicorn with two workers, whose values a scrape
adds up (prometheus-client's multiprocess mode, kernel/metricsdir.py), reached from real peer
addresses (127.0.0.1, a bound source 127.0.0.2, and this machine's own non-loopback address),
and scraped by a real Prometheus (Debian's, `make prometheus`) whose HTTP API says what it got."""

import json
import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlencode

import pytest
import yaml
from django.db import connection
from prometheus_client.parser import text_string_to_metric_families

from conftest import wait_until

from .serving import free_port, gunicorn, request, served_database, stop, token_request

pytestmark = [
    pytest.mark.outside,  # gunicorn, Prometheus
    # The workers are told apart by their database pool's gauges: PostgreSQL's pool only.
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the database pool is PostgreSQL's"),
]

PROMETHEUS = os.environ.get("PROMETHEUS", "/usr/bin/prometheus")
TOKEN = "served-metrics-token-0123456789abcdef"
TOKEN_ISSUED = ("portal_http_requests_total", (("component", "token"), ("route", "oauth:token"), ("status", "200")))
WORKERS = 2
POOL_MAX = 3


def own_address() -> str:
    """This machine's address on its network (what another host would connect to)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: only the route is looked up
        except OSError:
            pytest.skip("this machine has no network address besides loopback")
        address = probe.getsockname()[0]
    if address.startswith("127."):
        pytest.skip("this machine has no network address besides loopback")
    return address


class Portal:
    def __init__(self, port: int, metrics_dir: Path, client_id: str, secret: str) -> None:
        self.port, self.metrics_dir = port, metrics_dir
        self.client_id, self.secret = client_id, secret
        self.url = f"http://127.0.0.1:{port}"

    def scrape(self, host: str = "127.0.0.1", source: str | None = None, **headers: str) -> tuple[int, str]:
        import http.client

        conn = http.client.HTTPConnection(host, self.port, timeout=10, source_address=(source, 0) if source else None)
        try:
            conn.request("GET", "/metrics", headers=headers)
            response = conn.getresponse()
            return response.status, response.read().decode()
        finally:
            conn.close()

    def samples(self) -> dict[tuple[str, tuple], float]:
        status, text = self.scrape()
        assert status == 200
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    def issue(self, count: int) -> None:
        for _ in range(count):  # a new connection each: either worker may accept it
            assert token_request(self.url, self.client_id, self.secret).status == 200

    def worker_pids(self) -> set[int]:
        """The workers that have written their pool gauges (live gauges: one file per worker)."""
        return {int(path.stem.rpartition("_")[2]) for path in self.metrics_dir.glob("gauge_livesum_*.db")}


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> Iterator[tuple[dict[str, str], str, str]]:
    """The served database, and the environment of servers on it with two workers of small pools."""
    with served_database(
        tmp_path_factory.mktemp("metrics-db"),
        "metrics",
        STATIC_MANIFEST="off",
        SECURE_COOKIES="off",
        ALLOWED_HOSTS=f"127.0.0.1,127.0.0.2,{own_address()}",
        METRICS_TOKEN=TOKEN,
        WEB_CONCURRENCY=str(WORKERS),
        WEB_THREADS="8",
        DATABASE_POOL_MAX_SIZE=str(POOL_MAX),
        USAGE_COUNTING="off",
    ) as served:
        yield served


@pytest.fixture(scope="module")
def portal(database, tmp_path_factory) -> Iterator[Portal]:
    """gunicorn bound to every address, its workers' metrics in a directory the operator gave."""
    env, client_id, secret = database
    tmp = tmp_path_factory.mktemp("metrics")
    metrics_dir = tmp / "multiproc"
    metrics_dir.mkdir()
    # A file an earlier server left: a fresh start must not count it.
    (metrics_dir / "counter_1.db").write_bytes(b"left over")
    port = free_port()
    env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    with gunicorn(env, tmp / "gunicorn.log", port=port, host="0.0.0.0"):
        served = Portal(port, metrics_dir, client_id, secret)
        wait_until(lambda: len(served.worker_pids()) == WORKERS, 30, what="both workers' metrics files")
        yield served


def test_loopback_peers_read_it_and_another_address_needs_the_token(portal):
    here = own_address()
    assert portal.scrape("127.0.0.1")[0] == 200
    assert portal.scrape("127.0.0.1", source="127.0.0.2")[0] == 200  # all of 127.0.0.0/8 is this host
    status, body = portal.scrape(here)
    assert status == 404 and "portal_" not in body
    assert portal.scrape(here, Authorization=f"Bearer {TOKEN}")[0] == 200
    assert portal.scrape(here, Authorization=f"Bearer {TOKEN}0")[0] == 404
    assert portal.scrape(here, Authorization="Bearer")[0] == 404
    # A proxy on this host that relays someone else's request is not a loopback client.
    assert portal.scrape("127.0.0.1", **{"X-Forwarded-For": "192.0.2.9"})[0] == 404


def test_every_scrape_adds_up_both_workers_and_an_ended_worker_keeps_its_counts(portal):
    before = portal.samples().get(TOKEN_ISSUED, 0)
    portal.issue(20)
    # Whichever worker serves a scrape, it reads every worker's counts.
    for _ in range(6):
        assert portal.samples()[TOKEN_ISSUED] == before + 20
    # Each worker's pool, summed over the live workers: both, not one.
    pool = ("portal_db_pool_max_connections", (("alias", "default"),))
    assert portal.samples()[pool] == WORKERS * POOL_MAX
    open_connections = ("portal_db_pool_connections", (("alias", "default"),))
    assert portal.samples()[open_connections] >= WORKERS  # each opened its minimum

    # A worker killed: gunicorn starts another; the dead one's counts stay, its gauges go.
    pids = portal.worker_pids()
    victim = min(pids)
    os.kill(victim, signal.SIGKILL)
    wait_until(
        lambda: victim not in portal.worker_pids() and len(portal.worker_pids()) == WORKERS,
        30,
        what=lambda: f"a new worker in place of {victim}: {portal.worker_pids()}",
    )
    after = portal.samples()
    assert after[TOKEN_ISSUED] == before + 20
    assert after[pool] == WORKERS * POOL_MAX


def test_as_make_run_serves_each_start_gets_a_directory_of_its_own_removed_at_exit(database, tmp_path):
    """No PROMETHEUS_MULTIPROC_DIR given, as `make run` and bin/serve start gunicorn."""
    env, client_id, secret = database
    env = {key: value for key, value in env.items() if key != "PROMETHEUS_MULTIPROC_DIR"}
    temp = tmp_path / "tmp"
    temp.mkdir()
    port = free_port()
    with gunicorn({**env, "TMPDIR": str(temp)}, tmp_path / "gunicorn.log", port=port):
        (made,) = temp.glob("portal-metrics-*")
        served = Portal(port, made, client_id, secret)
        wait_until(lambda: len(served.worker_pids()) == WORKERS, 30, what="both workers' metrics files")
        served.issue(10)
        for _ in range(4):
            assert served.samples()[TOKEN_ISSUED] == 10
    assert not made.exists()


# --- A real Prometheus --------------------------------------------------------------------------


def prometheus_query(base: str, query: str) -> list[dict]:
    answer = request(f"{base}/api/v1/query?{urlencode({'query': query})}")
    assert answer.status == 200, answer.body[:300]
    return answer.json()["data"]["result"]


def by_job(results: list[dict]) -> dict[str, float]:
    return {result["metric"]["job"]: float(result["value"][1]) for result in results}


@pytest.fixture
def prometheus(portal, tmp_path) -> Iterator[str]:
    """Prometheus scraping the portal every second: over loopback without a token, over this
    machine's network address with the token, and with a wrong one."""
    if not os.access(PROMETHEUS, os.X_OK):
        pytest.fail(f"{PROMETHEUS} is missing: `make prometheus` installs Debian's package")
    target = f"{own_address()}:{portal.port}"
    jobs = [
        {"job_name": "loopback", "static_configs": [{"targets": [f"127.0.0.1:{portal.port}"]}]},
        {
            "job_name": "token",
            "authorization": {"type": "Bearer", "credentials": TOKEN},
            "static_configs": [{"targets": [target]}],
        },
        {
            "job_name": "wrong_token",
            "authorization": {"type": "Bearer", "credentials": TOKEN + "x"},
            "static_configs": [{"targets": [target]}],
        },
    ]
    config = tmp_path / "prometheus.yml"
    config.write_text(
        yaml.safe_dump({"global": {"scrape_interval": "1s", "scrape_timeout": "1s"}, "scrape_configs": jobs})
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "prometheus.log"
    with ExitStack() as stack, open(log, "wb") as out:
        process = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        stack.callback(stop, process)
        wait_until(
            lambda: request(f"{base}/-/ready").status == 200,
            30,
            what=lambda: f"Prometheus ready:\n{log.read_text()[-2000:]}",
            ignoring=(OSError,),
            interval=0.2,
        )
        yield base


def test_a_real_prometheus_scrapes_it(portal, prometheus):
    wait_until(
        lambda: len(prometheus_query(prometheus, "up")) == 3,
        30,
        what=lambda: f"a scrape of each job: {json.dumps(prometheus_query(prometheus, 'up'))}",
        interval=0.2,
    )
    assert by_job(prometheus_query(prometheus, "up")) == {"loopback": 1, "token": 1, "wrong_token": 0}

    before = portal.samples().get(TOKEN_ISSUED, 0)
    portal.issue(7)
    issued = 'sum by (job) (portal_http_requests_total{component="token",route="oauth:token",status="200"})'
    wait_until(
        lambda: by_job(prometheus_query(prometheus, issued)) == {"loopback": before + 7, "token": before + 7},
        30,
        what=lambda: f"Prometheus to see {before + 7} tokens: {prometheus_query(prometheus, issued)}",
        interval=0.2,
    )
    # The latency histogram, as Prometheus reads it.
    count = 'portal_http_request_duration_seconds_count{job="loopback",component="token",route="oauth:token"}'
    assert float(prometheus_query(prometheus, count)[0]["value"][1]) >= before + 7
    quantile = (
        "histogram_quantile(0.5, sum by (le) "
        '(portal_http_request_duration_seconds_bucket{job="loopback",route="oauth:token"}))'
    )
    assert 0 < float(prometheus_query(prometheus, quantile)[0]["value"][1]) < 10
