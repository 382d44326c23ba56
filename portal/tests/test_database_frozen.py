"""A frozen PostgreSQL: every process of the tests' own cluster (the postmaster and its backends)
stopped with SIGSTOP while gunicorn serves the portal against it. The server's kernel still
accepts connections and acknowledges what is sent, so nothing on the wire says that it is gone,
and the server's own statement timeout cannot fire: only the portal's client-side limits end a
wait (kernel/postgresql/waits.py). Every request is answered 503 with Retry-After within 5 s,
and after SIGCONT the same instance serves again without a restart."""

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from django.db import OperationalError, connection

from .conftest import WORKERS, Cluster, Portal

# Requests are sent for this long into the freeze: past the 10 s after which the pool checks
# a connection with a query (kernel/postgresql/base.py) rather than by looking at its socket.
SEND_FOR = 12
ANSWER_WITHIN = 5.0
CLIENTS = 6


def cluster_processes(cluster: Cluster) -> list[int]:
    """The postmaster's pid (from postmaster.pid) and those of its children."""
    postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # "pid (comm) state ppid ...": comm may hold spaces, so split after its ")".
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[1]) == postmaster:
            children.append(int(stat.parent.name))
    return [postmaster, *children]


def signal_all(cluster: Cluster, signum: int) -> None:
    for pid in cluster_processes(cluster):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def _calls(portal, alice: requests.Session) -> dict[str, Callable[[], requests.Response]]:
    emporix = portal.keys["emporix"]
    auth = (emporix["client_id"], emporix["secret"])
    return {
        "token": lambda: portal.token(),
        "introspect": lambda: requests.post(portal.url + "/oauth/introspect", {"token": "x"}, auth=auth, timeout=30),
        "keys page": lambda: alice.get(portal.url + "/tenants/acme/api-keys/", timeout=30),
        "readyz": lambda: requests.get(portal.url + "/readyz", timeout=30),
    }


@pytest.fixture(scope="module")
def own_portal(cluster, portal, tmp_path_factory):
    """A gunicorn of its own on the tests' cluster (its acme and keys): the failures of the
    freeze are reported in its processes, not in the shared portal's, whose next report the
    outage test awaits (one line per kind and OUTAGE_LOG_INTERVAL)."""
    instance = Portal(cluster, tmp_path_factory.mktemp("frozen"))
    instance.keys = portal.keys
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()


def test_a_frozen_database_is_answered_503_within_5_s_and_the_portal_recovers(own_portal, cluster_up):
    portal = own_portal
    portal.wait_ready()
    alice = portal.login()
    calls = _calls(portal, alice)
    # Every worker's pool holds connections the server has answered on lately.
    for _ in range(4 * WORKERS):
        for name, call in calls.items():
            assert call().status_code == 200, name

    answers: list[tuple[str, float, float, int, str | None]] = []  # name, sent at, seconds, status, Retry-After
    frozen_at = time.monotonic()
    signal_all(cluster_up, signal.SIGSTOP)
    try:
        signal_all(cluster_up, signal.SIGSTOP)  # a backend the postmaster forked meanwhile

        def client(names: list[str]) -> None:
            while time.monotonic() - frozen_at < SEND_FOR:
                for name in names:
                    sent = time.monotonic()
                    try:
                        response = calls[name]()
                        answer = (response.status_code, response.headers.get("Retry-After"))
                    except requests.RequestException as exc:
                        answer = (0, type(exc).__name__)
                    answers.append((name, sent - frozen_at, time.monotonic() - sent, *answer))

        names = list(calls)
        threads = [threading.Thread(target=client, args=(names[i:] + names[:i],)) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=SEND_FOR + 60)
    finally:
        signal_all(cluster_up, signal.SIGCONT)

    assert answers
    late = [answer for answer in answers if answer[2] >= ANSWER_WITHIN]
    assert not late, f"{len(late)} of {len(answers)} answers took 5 s or more: {late[:10]}"
    assert all(status == 503 and retry == "5" for _, _, _, status, retry in answers), answers
    assert max(sent for _, sent, _, _, _ in answers) > 10  # past the full-check interval

    # Thawed: the same gunicorn serves again (a dropped connection is replaced on the way).
    deadline = time.monotonic() + 15
    while portal.token().status_code != 200:
        assert time.monotonic() < deadline, "the portal did not recover after the freeze"
    for _ in range(2 * WORKERS):
        for name, call in calls.items():
            assert call().status_code == 200, name


@pytest.mark.django_db(transaction=True)
def test_a_wait_past_the_client_timeout_closes_the_connection(settings):
    """The mechanism on its own, in this process: a statement the server is in no hurry to
    answer (no statement timeout) is given up on after DB_CLIENT_TIMEOUT."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's client-side wait limit")
    settings.DB_CLIENT_TIMEOUT = 300
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            sleeper = cursor.fetchone()[0]
            cursor.execute("SET statement_timeout = 0")
            started = time.monotonic()
            with pytest.raises(OperationalError, match=r"no answer from the database server within 0.3 s"):
                cursor.execute("SELECT pg_sleep(5)")
            seconds = time.monotonic() - started
        assert 0.3 <= seconds < 1.5, seconds
        assert connection.connection.closed  # mid-exchange: never handed out again
    finally:
        connection.close()
    with connection.cursor() as cursor:  # the next use gets a sound connection
        # The server still runs the sleep of the connection given up on: end it.
        cursor.execute("SELECT pg_terminate_backend(%s)", [sleeper])
        assert cursor.fetchone() == (True,)
