"""gunicorn settings for `BENCH_PROFILE=DIR make bench`: the portal's gunicorn.conf.py plus a
cProfile of each worker's request handling (the WSGI application call, not gunicorn's own
parsing and logging), written to DIR/portal-<pid>.prof when the worker exits. Read with
`python -m pstats DIR/portal-<pid>.prof` (sort cumtime / tottime, then stats 30).

The clock is the worker's CPU time by default: on a loaded machine wall time is mostly waiting
(for PostgreSQL, for the other processes on the cores). BENCH_PROFILE_CLOCK=wall for wall time."""

import cProfile
import os
import runpy
import time
from pathlib import Path

globals().update(
    {
        name: value
        for name, value in runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py")).items()
        if not name.startswith("_")
    }
)

_profile = cProfile.Profile(time.perf_counter if os.environ.get("BENCH_PROFILE_CLOCK") == "wall" else time.process_time)


def pre_request(worker, req) -> None:
    _profile.enable()


def post_request(worker, req, environ, resp) -> None:
    _profile.disable()


def worker_exit(server, worker) -> None:
    folder = Path(os.environ["BENCH_PROFILE"])
    folder.mkdir(parents=True, exist_ok=True)
    _profile.dump_stats(folder / f"portal-{os.getpid()}.prof")
