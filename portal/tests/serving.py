"""Real servers for the serving tests: gunicorn started the way `make run` (or systemd) starts
it, on a database of its own, and slow clients held open as raw sockets while a normal token
request is timed. Only loopback addresses; every loop is bounded in count and time."""

import base64
import functools
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from conftest import wait_until

ROOT = Path(__file__).resolve().parents[2]
NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
# The gunicorn of the virtualenv running the tests: `make run` uses .venv/bin/gunicorn.
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
SLOW_CLIENTS = 50
TOKEN_DEADLINE = 1.0  # seconds a normal token request may take while slow clients hold on


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True, timeout=120
    ).stdout


@contextmanager
def served_database(
    tmp_dir: Path, name: str = "served", password: str | None = None, **overrides: str
) -> Iterator[tuple[dict[str, str], str, str]]:
    """A database of its own for the servers the tests start (they cannot see the test
    database's uncommitted rows, nor SQLite's in-memory one), migrated, with the tenant `edge`.
    PostgreSQL when the tests run on it (a database beside theirs, named after `name`), else a
    SQLite file. `password` is the admin edge@example.com's (else none usable); `overrides`
    are environment variables for migrate, create_tenant and the servers.
    Yields the servers' environment, and the Emporix API key's Client ID and secret."""
    env = {key: value for key, value in os.environ.items() if key not in ("WEB_CONCURRENCY", "WEB_THREADS")}
    url = env.get("DATABASE_URL", "")
    postgres = url.startswith(("postgres://", "postgresql://"))
    if postgres:
        import psycopg
        from psycopg import sql

        parts = urlsplit(url)
        name = f"test_{parts.path.lstrip('/')}_{name}"
        admin_url = urlunsplit(parts._replace(path="/postgres"))
        served_url = urlunsplit(parts._replace(path=f"/{name}"))
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    else:
        served_url = f"sqlite:///{tmp_dir / f'{name}.sqlite3'}"
    env.update(
        DATABASE_URL=served_url,
        DEBUG="off",
        EMAIL_URL="filemail://",
        EMAIL_FILE_PATH=str(tmp_dir / "mail"),
        CACHE_URL="locmemcache://served",
        LOG_LEVEL="INFO",
        ALLOWED_HOSTS="127.0.0.1,portal.example.com",
    )
    env.update(overrides)
    try:
        manage(env, "migrate", "--noinput", "-v0")
        admin = ["--admin", "edge@example.com"] + (["--password", password] if password else [])
        tenant = json.loads(manage(env, "create_tenant", "edge", "--name", "Edge", *admin, "--json"))
        key = next(key for key in tenant["keys"] if key["kind"] == "emporix")
        yield env, key["client_id"], key["secret"]
    finally:
        if postgres:
            with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Stops a server this module started (its own process group), by its id."""
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@contextmanager
def gunicorn(
    env: dict[str, str],
    log: Path,
    *,
    port: int | None = None,
    unix_socket: Path | None = None,
    host: str = "127.0.0.1",
):
    """gunicorn as `make run` starts it (`gunicorn portal.wsgi -c gunicorn.conf.py`, HOST and
    PORT from the environment), or, given `unix_socket`, as deploy/systemd starts it: with
    that socket handed over by socket activation (LISTEN_FDS, fd 3). `host` 0.0.0.0 serves
    this machine's other addresses too (test_metrics_served.py); it is still asked on 127.0.0.1."""
    command = [GUNICORN, "portal.wsgi", "-c", "gunicorn.conf.py"]
    env = {**env, "HOST": host, "PORT": str(port or free_port())}
    listener = None
    pass_fds: tuple[int, ...] = ()
    if unix_socket is not None:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(unix_socket))
        listener.listen(128)
        fd = listener.fileno()
        # What systemd does: the socket as fd 3, LISTEN_FDS=1 and LISTEN_PID=the server's pid.
        moves = "" if fd == 3 else f"3<&{fd} {fd}<&-"
        command = ["/bin/bash", "-c", f'LISTEN_FDS=1 LISTEN_PID=$$ exec "$@" {moves}', "bash", *command]
        pass_fds = (fd,)
    with open(log, "ab") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, pass_fds=pass_fds, start_new_session=True
        )
    if listener is not None:
        listener.close()
    try:
        if unix_socket is None:
            base = f"http://127.0.0.1:{env['PORT']}"
            wait_until_serving(
                lambda: request(f"{base}/.well-known/oauth-authorization-server").status == 200, process, log
            )
        else:
            wait_until_serving(lambda: unix_socket_answers(unix_socket), process, log)
        yield process
    finally:
        stop(process)


def unix_socket_answers(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        sock.connect(str(path))
        sock.sendall(b"GET /.well-known/oauth-authorization-server HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        return sock.recv(12).startswith(b"HTTP/1")


def wait_until_serving(
    ready: Callable[[], bool],
    process: subprocess.Popen,
    log: Path,
    timeout: float = 60,
    ignoring: tuple[type[Exception], ...] = (OSError,),
) -> None:
    """Until `ready()` holds (an exception of `ignoring`: not yet); fails at once, with the tail
    of the log, if the server `process` exits first."""

    def answers() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        return ready()

    wait_until(
        answers,
        timeout,
        what=lambda: f"the server answering:\n{log.read_text()[-3000:]}",
        ignoring=ignoring,
        interval=0.1,
    )


class Answer:
    def __init__(self, status: int, headers: http.client.HTTPMessage | None, body: bytes, seconds: float) -> None:
        self.status, self.headers, self.body, self.seconds = status, headers, body, seconds

    def json(self) -> dict:
        return json.loads(self.body)


def request(
    url: str,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> Answer:
    """One request on a new connection (certificates are not checked: the tests' own)."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=timeout, context=insecure_tls()
        )
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    started = time.monotonic()
    try:
        conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body, headers or {})
        response = conn.getresponse()
        data = response.read()
        return Answer(response.status, response.headers, data, time.monotonic() - started)
    finally:
        conn.close()


def token_request(base_url: str, client_id: str, secret: str, host: str = "127.0.0.1") -> Answer:
    credentials = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return request(
        f"{base_url}/oauth/token",
        "POST",
        b"grant_type=client_credentials",
        {
            "Host": host,
            "Authorization": f"Basic {credentials}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )


@functools.cache  # building a context loads the system's CA certificates: 30 ms or more
def insecure_tls() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def slow_headers(host: str) -> bytes:
    # A request line and a first header; the rest of the headers never comes.
    return f"POST /oauth/token HTTP/1.1\r\nHost: {host}\r\nX-Slow: ".encode()


def slow_body(host: str) -> bytes:
    # Whole headers declaring a 1000-byte body, of which a byte a second follows.
    return (
        f"POST /oauth/token HTTP/1.1\r\nHost: {host}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
    ).encode()


class SlowClients:
    """`count` connections that each send `opening`, then one byte a second from a background
    thread, until close() or `limit` seconds have passed."""

    def __init__(
        self, connect: Callable[[], socket.socket], opening: bytes, count: int = SLOW_CLIENTS, limit: float = 30
    ):
        self.sockets = []
        self._stop = threading.Event()
        self._deadline = time.monotonic() + limit
        try:
            for _ in range(count):
                sock = connect()
                sock.sendall(opening)
                self.sockets.append(sock)
        except BaseException:
            self.close()
            raise
        self._thread = threading.Thread(target=self._trickle, daemon=True)
        self._thread.start()

    def _trickle(self) -> None:
        broken: set[int] = set()
        while not self._stop.wait(1.0) and time.monotonic() < self._deadline:
            for index, sock in enumerate(self.sockets):
                if index in broken:
                    continue
                try:
                    sock.send(b"a")
                except OSError:
                    broken.add(index)

    def held(self) -> int:
        """Stops the trickle, then counts the connections the server still holds open without
        having answered: nothing to read, no end of stream, no error."""
        self._stop.set()
        self._thread.join(timeout=5)
        held = 0
        for sock in self.sockets:
            sock.setblocking(False)
            try:
                sock.recv(1)  # an answer, or b"" for a connection the server closed
            except (BlockingIOError, ssl.SSLWantReadError):
                held += 1
            except OSError:
                pass
        return held

    def close(self) -> None:
        self._stop.set()
        for sock in self.sockets:
            with suppress(OSError):
                sock.close()


def accepted_and_read(port: int) -> bool:
    """Whether the server listening on 127.0.0.1:`port` has accepted every connection made to it
    and read all that each sent: in Linux's /proc/net/tcp, rx_queue is the accept queue of a
    listening socket and the unread bytes of a connected one."""
    local = f"0100007F:{port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        _, address, _, state, queues = line.split()[:5]
        if address == local and state in ("0A", "01") and int(queues.split(":")[1], 16):  # LISTEN, ESTABLISHED
            return False
    return True


def assert_token_while_slow_clients(
    connect: Callable[[], socket.socket], port: int, opening: bytes, token: Callable[[], Answer]
) -> None:
    """50 slow clients hold their connections to `port` while a normal client gets a token in < 1 s."""
    slow = SlowClients(connect, opening)
    try:
        # The server has accepted them and read what they sent, and waits for the rest.
        wait_until(lambda: accepted_and_read(port), 10, what=f"the server on port {port} taking the slow clients")
        answer = token()
        held = slow.held()
    finally:
        slow.close()
    assert answer.status == 200, answer.body[:300]
    assert answer.json()["token_type"] == "Bearer"
    assert answer.seconds < TOKEN_DEADLINE, f"the token took {answer.seconds:.2f} s"
    # Otherwise the server dropped them and the test proved nothing.
    assert held == SLOW_CLIENTS, f"only {held} of {SLOW_CLIENTS} slow clients were still connected"


def nginx_binary() -> str:
    """Debian's nginx, installed by `make nginx` (as `make test` does) when it is missing."""
    if not Path(NGINX).exists():
        make = subprocess.run(["make", "-s", "nginx"], cwd=ROOT, capture_output=True, text=True, timeout=600)
        if not Path(NGINX).exists():
            pytest.skip(f"nginx is not at {NGINX} and `make nginx` could not install it: {make.stderr[-500:]}")
    return NGINX


def render_config(template: Path, replacements: dict[str, str]) -> str:
    """A shipped nginx file with each text replaced (loopback ports, the test's files); every
    one must be in it, so that a changed file fails here rather than testing something else."""
    text = template.read_text()
    for old, new in replacements.items():
        assert old in text, f"{template} no longer has {old!r}"
        text = text.replace(old, new)
    return text


def self_signed_certificate(tmp: Path, host: str) -> None:
    """cert.pem and key.pem in `tmp`: a P-256 certificate for `host`, valid for a day."""
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            f"/CN={host}",
            "-keyout",
            str(tmp / "key.pem"),
            "-out",
            str(tmp / "cert.pem"),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )


def nginx_conf(tmp: Path) -> str:
    """A main nginx.conf running in the foreground from `tmp`, including `tmp`/site.conf."""
    temp_paths = "\n".join(
        f"    {name}_temp_path {tmp / name};" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # As root, nginx would switch its workers to www-data, which cannot reach the temp dir.
    user = "user root;" if os.geteuid() == 0 else ""
    return f"""
{user}
daemon off;
worker_processes 1;
pid {tmp / "nginx.pid"};
error_log {tmp / "error.log"};
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
{temp_paths}
    include {tmp / "site.conf"};
}}
"""


def nginx_version() -> tuple[int, ...]:
    """The installed nginx's version, e.g. (1, 22, 1)."""
    done = subprocess.run([nginx_binary(), "-v"], capture_output=True, text=True, timeout=30)
    return tuple(int(part) for part in done.stderr.strip().rpartition("/")[2].split(".")[:3])


def nginx_test(tmp: Path, site: str) -> str:
    """`nginx -t` of `site` as nginx() would serve it: its output (warnings included)."""
    (tmp / "site.conf").write_text(site)
    (tmp / "nginx.conf").write_text(nginx_conf(tmp))
    done = subprocess.run(
        [nginx_binary(), "-t", "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-e", str(tmp / "error.log")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return done.stderr


@contextmanager
def nginx(tmp: Path, site: str, ready_url: str, host: str) -> Iterator[subprocess.Popen]:
    """Debian's nginx serving `site` from `tmp`, until `ready_url` (asked with Host `host`)
    answers 200; stopped gracefully (SIGQUIT) afterwards."""
    (tmp / "site.conf").write_text(site)
    (tmp / "nginx.conf").write_text(nginx_conf(tmp))
    process = subprocess.Popen(
        [nginx_binary(), "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-e", str(tmp / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / "nginx.out", "wb"),  # noqa: SIM115  (nginx keeps it)
        start_new_session=True,
    )
    try:
        wait_until_serving(
            lambda: request(ready_url, headers={"Host": host}).status == 200, process, tmp / "nginx.out", 30
        )
        yield process
        stop(process, signal.SIGQUIT)
    finally:
        stop(process)
