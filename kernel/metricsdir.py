"""The directory in which gunicorn's workers keep their metrics (prometheus-client's multiprocess
mode: kernel/metrics.py, docs/metrics.md), prepared by the gunicorn master before it forks.

Fresh for every server start: values left by an earlier server would be added to this one's
(counters would start where the last run stopped, and gauges of processes long gone would
count). Kept across reloads (HUP): the counters of the workers a reload replaces stay counted.

Standard library only, and no prometheus_client: the library reads PROMETHEUS_MULTIPROC_DIR
when it is first imported, so the master must not import it before the variable is set, or
the workers forked from it would inherit a single-process library."""

import os
import shutil
import tempfile
from pathlib import Path

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def prepare() -> str | None:
    """Set PROMETHEUS_MULTIPROC_DIR for the workers to come: the operator's directory emptied of
    an earlier run's files, or else a new temporary one. Returns the directory this made (to
    remove at exit), None if it was the operator's."""
    given = os.environ.get(VARIABLE)
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for leftover in directory.glob("*.db"):
            leftover.unlink()
        return None
    made = tempfile.mkdtemp(prefix="portal-metrics-")
    os.environ[VARIABLE] = made
    return made


def worker_ended(pid: int) -> None:
    """A worker has exited: its live gauges (the database pool's) no longer count."""
    if os.environ.get(VARIABLE):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


def remove(made: str | None) -> None:
    """At the master's exit: remove the directory prepare() made."""
    if made:
        shutil.rmtree(made, ignore_errors=True)
