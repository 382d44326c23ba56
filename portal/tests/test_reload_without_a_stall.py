"""A reload (HUP) keeps answering while the new workers boot: the old ones serve until the new
ones are ready (kernel/handoff.py), instead of stopping at once and leaving every new connection
in the listen backlog for the seconds a boot takes on a loaded host.

The new workers are held before they say they are ready, for as long as the test likes (a
config wrapping gunicorn.conf.py waits in post_worker_init for a file the test creates): that is
a slow boot made certain. Meanwhile every token request is answered. Once they are let go the
old workers exit, the new ones serve, and stopping the server is as prompt as ever."""

import signal
import subprocess
import time

from portal.tests.serving import GUNICORN, ROOT, free_port, stop, token_request, wait_until_serving

HELD_REQUESTS = 10

WRAPPER = """
import os
import runpy
import time

globals().update(
    {{name: value for name, value in runpy.run_path({config!r}).items() if not name.startswith("__")}}
)
_warm_up = post_worker_init


def post_worker_init(worker):
    _warm_up(worker)
    if worker.age > {first_generation}:  # a reload's new worker: held until the test says
        while not os.path.exists({release!r}):
            time.sleep(0.05)
"""


def test_the_old_workers_serve_until_the_new_ones_are_ready(served, tmp_path):
    env, client_id, secret = served
    release = tmp_path / "release"
    config = tmp_path / "gunicorn_held.conf.py"
    config.write_text(WRAPPER.format(config=str(ROOT / "gunicorn.conf.py"), first_generation=2, release=str(release)))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "gunicorn.log"
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [GUNICORN, "portal.wsgi", "-c", str(config)],
            cwd=ROOT,
            env={**env, "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": "2"},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_serving(lambda: token_request(base, client_id, secret).status == 200, process, log)
        process.send_signal(signal.SIGHUP)
        wait_until_serving(lambda: log.read_text().count("Booting worker") == 4, process, log)

        # The new workers are held; the old ones answer (without the handoff each of these
        # would wait in the backlog until the release, and time out after 10 s).
        for _ in range(HELD_REQUESTS):
            answer = token_request(base, client_id, secret)
            assert answer.status == 200, answer.body
        assert "Worker exiting" not in log.read_text()

        release.touch()
        wait_until_serving(lambda: log.read_text().count("Worker exiting") == 2, process, log)
        for _ in range(4):  # the new generation serves
            assert token_request(base, client_id, secret).status == 200
        assert "Traceback" not in log.read_text()
    finally:
        started = time.monotonic()
        stop(process)
    # A SIGTERM outside a reload stops the workers at once, as before.
    assert time.monotonic() - started < 10
