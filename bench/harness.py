"""What the bench scripts share: their database, manage.py, free ports and waiting for a
server to answer. Each script keeps its own settings (ENV, DATABASE) and passes them in."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def manage(env: dict[str, str], *args: str, timeout: float | None = None) -> str:
    """Run `manage.py` with the running Python (make bench's .venv) and `env`; its stdout."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=timeout,
    ).stdout


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database of `url` if it does not exist yet."""
    import psycopg
    from psycopg import sql

    parts = urllib.parse.urlsplit(url)
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    name = parts.path.lstrip("/")
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def free_ports(count: int) -> list[int]:
    """Distinct free ports (all sockets are held open until every port is chosen)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def wait_for(url: str, server: subprocess.Popen, *, any_status: bool = False, timeout: float = 60) -> None:
    """Until the server answers `url` with a success, or with anything at all if `any_status`
    (the floor answers GET with an error). Exits if the server stops or never answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server for {url} exited with {server.returncode}; see its log")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except urllib.error.HTTPError:
            if any_status:
                return
            time.sleep(0.2)
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server did not answer at {url}")


PG_BIN = Path("/usr/lib/postgresql") / "15" / "bin"


class Cluster:
    """A PostgreSQL cluster of a bench's own, in `base` (kept between runs, so that what a
    bench loaded into it stays), on `port`, with `settings` (postgresql.conf names) on the
    command line. It runs as the `postgres` user when the bench runs as root (initdb refuses
    root), and is stopped by stop()."""

    def __init__(self, base: Path, port: int, settings: dict[str, str]) -> None:
        self.base, self.port, self.settings = base, port, settings
        self.data = base / "data"
        self.user = "postgres" if os.geteuid() == 0 else None

    def _pg(self, tool: str, *args: str, timeout: float = 120) -> None:
        subprocess.run(
            [str(PG_BIN / tool), *args], user=self.user, cwd=self.base, check=True, capture_output=True, timeout=timeout
        )

    def start(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        if self.user:
            shutil.chown(self.base, user=self.user)
        if not (self.data / "PG_VERSION").exists():
            self._pg("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8")
        options = " ".join(
            [f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1"]
            + [f"-c {name}={value}" for name, value in self.settings.items()]
        )
        self._pg("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.base / "server.log"), "-w", "start")

    def stop(self) -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", timeout=300)

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"


# The benches' own cluster (bench/scale.py, bench/purge.py): kept between runs so that a loaded
# database stays. PostgreSQL's defaults are for a small machine: shared_buffers of 128 MB cannot
# hold the token table's indexes at 10 million rows (its digest index alone is 324 MB), so every
# token request reads and writes index pages through the kernel, and max_wal_size of 1 GB has a
# purge of millions of rows force checkpoints. A deployment of that size sizes them to its
# machine (a quarter of the memory for shared_buffers is the usual advice: docs/scaling.md);
# this one has 24 GB. Commits are synchronous and fsynced, as in production.
PGDATA = Path(os.environ.get("BENCH_PGDATA", "/var/tmp/portal-bench-pg"))
OWN_SETTINGS = {
    "shared_buffers": os.environ.get("BENCH_SHARED_BUFFERS", "4GB"),
    "effective_cache_size": "12GB",
    "max_wal_size": "8GB",
    "maintenance_work_mem": "512MB",
}


def own_postgres() -> Cluster:
    """The benches' own PostgreSQL cluster, started on a free port (the caller stops it)."""
    (port,) = free_ports(1)
    cluster = Cluster(PGDATA, port, OWN_SETTINGS)
    cluster.start()
    print(f"postgres: the benches' own cluster in {PGDATA}, " + ", ".join(f"{k}={v}" for k, v in OWN_SETTINGS.items()))
    return cluster
