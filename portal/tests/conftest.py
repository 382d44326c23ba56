"""A PostgreSQL cluster of the tests' own and the portal served against it by gunicorn, for
the outage and timeout tests: the cluster can be stopped and started without touching the
machine's shared PostgreSQL. Both live for the session and are always stopped at its end.

The cluster runs as the `postgres` user (initdb refuses root) from a temporary directory, on
a free port, with fsync off. The portal is migrated first, gets the tenant acme (admin alice)
with `create_tenant --json`, and runs as `make run` runs it (gunicorn.conf.py: 2 gthread workers
with a connection pool each) with JSON logs into a file, a short pool timeout, and short lock
and statement timeouts so that the tests wait seconds, not minutes."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
import requests

from activity.audit import SYSTEM
from apikeys.models import KeyKind
from apikeys.services import key_create, key_renew
from conftest import wait_until
from portal.tests.serving import GUNICORN, served_database, wait_until_serving
from scopes.models import Scope
from sso.services import domain_claim
from tenants.models import Membership
from tenants.services import invitation_send
from webhooks.services import endpoint_create

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
PASSWORD = "correct-horse-battery-staple"
LOCK_TIMEOUT_MS = 1000
STATEMENT_TIMEOUT_MS = 1500
POOL_TIMEOUT_S = 0.5
WORKERS = 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    """A throwaway PostgreSQL cluster: start(), stop(), connect()."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.data = base / "data"
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else None

    def _pg(self, tool: str, *args: str) -> None:
        subprocess.run(
            [str(PG_BIN / tool), *args], user=self.user, cwd=self.base, check=True, capture_output=True, timeout=60
        )

    def init(self) -> None:
        if self.user:
            shutil.chown(self.base, user=self.user)
        self._pg("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.base / "server.log"), "-w", "start")

    def stop(self) -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def running(self) -> bool:
        return subprocess.run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "status"], user=self.user).returncode == 0

    def url(self, name: str = "portal") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def connect(self, **kwargs) -> psycopg.Connection:
        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="portal", **kwargs)


class Portal:
    """gunicorn serving the portal against the cluster, with its log in a file."""

    def __init__(self, cluster: Cluster, base: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = base / "portal.log"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "DATABASE_URL": cluster.url(),
            "DEBUG": "off",
            "SECRET_KEY": "outage-test-secret-key",
            "EMAIL_URL": "filemail://",
            "EMAIL_FILE_PATH": str(base / "mail"),
            "PORTAL_ENCRYPTION_KEYS": "test1:9Nf0cS4aYV9V7lQ4w3bq0wqvEx0nq2Ff8a3sOq0kq7M=",
            "STATIC_MANIFEST": "off",
            "SECURE_COOKIES": "off",
            "CACHE_URL": "locmemcache://outage",
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
            "DB_LOCK_TIMEOUT": str(LOCK_TIMEOUT_MS),
            "DB_STATEMENT_TIMEOUT": str(STATEMENT_TIMEOUT_MS),
            # While the database is down a request waits this long for a pooled connection.
            "DATABASE_POOL_TIMEOUT": str(POOL_TIMEOUT_S),
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "WEB_CONCURRENCY": str(WORKERS),
            # gunicorn's control socket defaults to one path per user: not another server's.
            "GUNICORN_CMD_ARGS": "--no-control-socket",
        }
        self.process: subprocess.Popen | None = None
        self.keys: dict[str, dict] = {}

    def manage(self, *args: str) -> str:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout

    def prepare(self) -> None:
        self.manage("migrate", "--noinput", "-v0")
        created = json.loads(
            self.manage("create_tenant", "acme", "--admin", "alice@example.com", "--password", PASSWORD, "--json")
        )
        self.keys = {key["kind"]: key for key in created["keys"]}

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [GUNICORN, "portal.wsgi", "-c", "gunicorn.conf.py"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        wait_until_serving(
            lambda: requests.get(self.url + "/healthz", timeout=5).status_code == 200,
            self.process,
            self.log_path,
            30,
            ignoring=(requests.ConnectionError, requests.Timeout),
        )

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def wait_ready(self, seconds: float = 30) -> None:
        """Until /readyz answers 200 on every worker (a few answers in a row)."""
        in_a_row = 0

        def ready() -> bool:
            nonlocal in_a_row
            try:
                ok = requests.get(self.url + "/readyz", timeout=5).status_code == 200
            except requests.RequestException:
                ok = False
            in_a_row = in_a_row + 1 if ok else 0
            return in_a_row >= 2 * WORKERS

        wait_until(ready, seconds, what="the portal ready on every worker", interval=0.05)

    def log_lines(self) -> list[str]:
        return self.log_path.read_text().splitlines()

    def log_mark(self) -> int:
        """How many lines the log has now; log_since(mark) reads what came after."""
        return len(self.log_lines())

    def log_since(self, mark: int) -> list[str]:
        return self.log_lines()[mark:]

    def login(self, email: str = "alice@example.com") -> requests.Session:
        return login(self.url, email)

    def token(self, kind: str = "emporix", **extra) -> requests.Response:
        key = self.keys[kind]
        return requests.post(
            self.url + "/oauth/token",
            {"grant_type": "client_credentials", "client_id": key["client_id"], "client_secret": key["secret"]},
            timeout=30,
            **extra,
        )


def login(url: str, email: str, password: str = PASSWORD) -> requests.Session:
    """A session logged in to the portal at `url` through its login form, as a browser does."""
    session = requests.Session()
    # A fresh connection per request: these tests pause (a database stopped, a lock held) longer
    # than gunicorn's 2 s keep-alive, and a request sent on an idle connection just as the
    # server closes it is lost in transit (a browser, or nginx in front, would retry it).
    session.headers["Connection"] = "close"
    form = session.get(url + "/accounts/login/", timeout=5)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    response = session.post(
        url + "/accounts/login/",
        {"csrfmiddlewaretoken": token, "username": email, "password": password},
        timeout=5,
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:500]
    return session


def csrf_post(session: requests.Session, url: str, data: dict) -> requests.Response:
    """A form POST with the CSRF token from the session's cookie, as a browser sends it."""
    return session.post(
        url, {**data, "csrfmiddlewaretoken": session.cookies["csrftoken"]}, timeout=30, allow_redirects=False
    )


@pytest.fixture(scope="session")
def cluster():
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL server binaries are not in {PG_BIN}")
    base = Path(tempfile.mkdtemp(prefix="portal-pg-"))
    instance = Cluster(base)
    try:
        instance.init()
        instance.start()
        subprocess.run(
            [str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(instance.port), "-U", "postgres", "portal"],
            check=True,
            capture_output=True,
        )
        yield instance
    finally:
        if instance.running():
            instance.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def portal(cluster):
    instance = Portal(cluster, cluster.base)
    instance.prepare()
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture
def cluster_up(cluster, portal):
    """The cluster running before and after the test, whatever the test did to it, and the
    portal ready on it (a failed test does not leave the next one a portal mid-recovery)."""
    if not cluster.running():
        cluster.start()
    portal.wait_ready()
    yield cluster
    if not cluster.running():
        cluster.start()


@pytest.fixture(scope="session")
def served(tmp_path_factory):
    """(environment, Client ID, secret): a migrated database with the tenant `edge` for the
    servers that the serving tests start."""
    with served_database(tmp_path_factory.mktemp("served")) as site:
        yield site


@pytest.fixture
def url_arguments(acme, globex, bob):
    """The arguments every tenant URL of the portal needs, for the tables of
    test_permissions.py and test_reauthentication.py: acme's custom key (renewed with a grace
    period, so it has an old secret to retire), bob's membership, a pending invitation, a
    webhook endpoint (on a closed loopback port: a test event fails at once, offline)."""
    key, _ = key_create(
        tenant=acme, kind=KeyKind.CUSTOM, name="Custom", scopes=Scope.objects.filter(name="tax.tax_read")
    )
    key_renew(key=key, grace=timedelta(hours=1))
    return {
        "code": acme.code,
        "key_id": key.public_id,
        "secret_id": key.secrets.get(expires_at__isnull=False).public_id,
        "member_id": Membership.objects.get(tenant=acme, user=bob).pk,
        "invitation_id": invitation_send(
            tenant=acme, email="invited@example.com", role="viewer", accept_url="http://testserver/x/"
        ).public_id,
        # A claimed e-mail domain, not proved (sso/).
        "domain_id": domain_claim(tenant=acme, audit=SYSTEM, domain="acme.example").pk,
        "endpoint_id": endpoint_create(tenant=acme, url="http://127.0.0.1:9/hook", event_types=["key.created"])[
            0
        ].public_id,
    }
