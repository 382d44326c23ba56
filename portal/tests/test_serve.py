"""bin/serve, which `make run` ends with: it starts gunicorn and the webhook delivery worker
and stops them with it. Real processes throughout: small Python programs that record which
signal stopped them, `make` itself in front (Ctrl+C reaches make's whole process group, SIGTERM
only make), and once the real portal with its worker on a database of its own, whose heartbeat
the test reads. No sleeps: every wait is for an event, bounded by a deadline."""

import os
import signal
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from conftest import wait_until

from .serving import ROOT, free_port, request, served_database, stop

pytestmark = pytest.mark.outside  # starts processes: the supervisor, make, gunicorn, the worker
SERVE = str(ROOT / "bin" / "serve")
PROGRAM = """
import os, pathlib, signal, sys
folder, name, mode = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
def stopped(signum, frame):
    (folder / f"{name}.stopped").write_text(signal.Signals(signum).name)
    sys.exit(0)
signal.signal(signal.SIGTERM, signal.SIG_IGN if mode == "ignore" else stopped)
signal.signal(signal.SIGINT, stopped)  # recorded too: the programs should get SIGTERM only
(folder / f"{name}.pid").write_text(str(os.getpid()))
while True:
    signal.pause()
"""


class Run:
    """bin/serve (or make running it) in a process group of its own, with two programs."""

    def __init__(self, tmp_path: Path, *, modes=("obey", "obey"), grace: float = 20, via_make: bool = False) -> None:
        self.folder = tmp_path
        script = tmp_path / "program.py"
        script.write_text(PROGRAM)
        self.names = ["alpha", "beta"]
        programs = [
            f"--program={name}={sys.executable} {script} {tmp_path} {name} {mode}"
            for name, mode in zip(self.names, modes, strict=True)
        ]
        command = [sys.executable, SERVE, f"--grace={grace}", *programs]
        if via_make:
            makefile = tmp_path / "Makefile"
            quoted = " ".join(f"'{part}'" for part in command)
            makefile.write_text(f"run:\n\texec {quoted}\n")
            command = ["make", "-s", "-f", str(makefile), "run"]
        self.log = tmp_path / "serve.log"
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.pids = {
            name: int(wait_until(lambda n=name: self._read(f"{n}.pid"), 20, what=f"{name} starting"))
            for name in self.names
        }

    def _read(self, name: str) -> str:
        path = self.folder / name
        return path.read_text() if path.exists() and path.stat().st_size else ""

    def stopped_by(self, name: str) -> str:
        return self._read(f"{name}.stopped")

    def finish(self, timeout: float = 30) -> int:
        try:
            return self.process.wait(timeout=timeout)
        finally:
            stop(self.process, signal.SIGKILL)

    def output(self) -> str:
        return self.log.read_text()


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_sigterm_stops_every_program_with_one_sigterm_each(tmp_path):
    run = Run(tmp_path)
    run.process.send_signal(signal.SIGTERM)
    assert run.finish() == 0, run.output()
    assert [run.stopped_by(name) for name in run.names] == ["SIGTERM", "SIGTERM"]
    assert all(gone(pid) for pid in run.pids.values())
    assert "SIGTERM received: stopping" in run.output() and "alpha stopped (exit status 0)" in run.output()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_stopping_make_stops_every_program(tmp_path, sig):
    """Ctrl+C signals make's whole process group (make and bin/serve); `kill` signals make
    alone, which passes SIGTERM on to its recipe. Either way the programs get one SIGTERM."""
    run = Run(tmp_path, via_make=True)
    if sig == signal.SIGINT:
        os.killpg(run.process.pid, signal.SIGINT)  # what the terminal does on Ctrl+C
    else:
        run.process.send_signal(signal.SIGTERM)
    run.finish()
    assert [run.stopped_by(name) for name in run.names] == ["SIGTERM", "SIGTERM"], run.output()
    assert all(gone(pid) for pid in run.pids.values())


def test_a_program_that_dies_stops_the_others_and_fails(tmp_path):
    run = Run(tmp_path)
    os.kill(run.pids["alpha"], signal.SIGKILL)  # a crash
    assert run.finish() == 1, run.output()
    assert "alpha ended by itself (signal SIGKILL): stopping the others" in run.output()
    assert run.stopped_by("beta") == "SIGTERM" and gone(run.pids["beta"])


def test_a_program_that_ignores_sigterm_is_killed_after_the_grace_period(tmp_path):
    run = Run(tmp_path, modes=("ignore", "obey"), grace=0.5)
    run.process.send_signal(signal.SIGTERM)
    assert run.finish() == 0, run.output()
    assert "alpha (pid" in run.output() and "still runs after 0.5 s: killing it" in run.output()
    assert "alpha stopped (signal SIGKILL)" in run.output() and gone(run.pids["alpha"])
    assert run.stopped_by("beta") == "SIGTERM"


def test_a_killed_supervisor_leaves_no_program_behind(tmp_path):
    run = Run(tmp_path)
    run.process.send_signal(signal.SIGKILL)  # no chance to stop them: the kernel tells them
    run.finish()
    for name in run.names:
        assert wait_until(lambda n=name: run.stopped_by(n), 20, what=f"{name} stopping") == "SIGTERM"
        wait_until(lambda n=name: gone(run.pids[n]), 20, what=f"{name} ending")


def _heartbeats(env: dict[str, str], table: str = "webhooks_workerheartbeat") -> int:
    url = env["DATABASE_URL"]
    query = f"SELECT count(*) FROM {table}"
    if url.startswith("sqlite:///"):
        import sqlite3

        with closing(sqlite3.connect(url.removeprefix("sqlite:///"), timeout=10)) as db:
            return db.execute(query).fetchone()[0]
    import psycopg

    with psycopg.connect(url, connect_timeout=5) as db:
        return db.execute(query).fetchone()[0]


def test_it_serves_the_portal_with_its_workers_and_stops_them_all(tmp_path):
    port = free_port()
    with served_database(
        tmp_path,
        "serve",
        STATIC_MANIFEST="off",
        SECURE_COOKIES="off",
        WEB_CONCURRENCY="1",
        WEB_THREADS="4",
        WEBHOOKS_POLL_INTERVAL="0.2",
    ) as (env, _, _):
        env = {**env, "HOST": "127.0.0.1", "PORT": str(port)}
        log = tmp_path / "serve.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [sys.executable, SERVE], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until(
                lambda: request(f"{base}/healthz").status == 200,
                60,
                what=lambda: f"the portal answering:\n{log.read_text()[-3000:]}",
                ignoring=(OSError,),
                interval=0.1,
            )
            wait_until(lambda: _heartbeats(env) == 1, 60, what=lambda: f"a heartbeat:\n{log.read_text()[-3000:]}")
            wait_until(
                lambda: _heartbeats(env, "usage_flushworker") == 1,
                60,
                what=lambda: f"the usage flush's heartbeat:\n{log.read_text()[-3000:]}",
            )
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=60) == 0, log.read_text()[-3000:]
        finally:
            stop(process, signal.SIGKILL)
        output = log.read_text()
        for name in ("web", "webhooks", "usage"):
            assert f"started {name} (pid" in output and f"{name} stopped (exit status 0)" in output
        with pytest.raises(OSError):
            request(f"{base}/healthz", timeout=2)
