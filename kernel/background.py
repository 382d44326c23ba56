"""Work a request asks for that must not show in its answer's timing (a password-reset mail,
sent only for an address that has an account): run after the response has been sent, in one
background thread per process.

`after_response(work)` inside a request holds `work` until the response is closed (Django's
request_finished: the WSGI server closes a response once it has written it), then hands it
to the background thread; outside a request (a management command) it hands it over at once.
The request's own thread never runs it, so neither the answer nor the next request on the
same keep-alive connection waits for it.

Jobs run one at a time, in order; a failing job is logged (by its description, never its
arguments) and the next one runs. A job that touched the database has its thread's connections
closed afterwards. At exit the process waits up to EXIT_WAIT_SECONDS for queued jobs, so a
graceful restart does not drop them; a killed process does (as a mail server that is down
would)."""

import atexit
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.core.signals import request_finished, request_started
from django.db import connections

logger = logging.getLogger(__name__)

EXIT_WAIT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class _Job:
    work: Callable[[], None]
    description: str


_jobs: "queue.Queue[_Job]" = queue.Queue()
_request = threading.local()  # .pending: the jobs of the request this thread serves, or None
_thread: threading.Thread | None = None
_thread_pid = 0
_thread_lock = threading.Lock()


def _run() -> None:
    while True:
        job = _jobs.get()
        try:
            job.work()
        except Exception:
            logger.exception("Background job failed: %s", job.description)
        finally:
            connections.close_all()  # this thread's connections only
            _jobs.task_done()


def _ensure_thread() -> None:
    """Start the process's background thread (again after a fork: gunicorn forks workers,
    and a thread does not survive a fork)."""
    global _thread, _thread_pid
    if _thread is not None and _thread_pid == os.getpid() and _thread.is_alive():
        return
    with _thread_lock:
        if _thread is None or _thread_pid != os.getpid() or not _thread.is_alive():
            _thread = threading.Thread(target=_run, name="portal-background", daemon=True)
            _thread_pid = os.getpid()
            _thread.start()


def _submit(jobs: list[_Job]) -> None:
    if not jobs:
        return
    _ensure_thread()
    for job in jobs:
        _jobs.put(job)


def after_response(work: Callable[[], None], *, description: str) -> None:
    """Run `work` in the background thread once the current response has been sent (at once
    outside a request). `description` names the job in the log if it fails; it must not
    contain a secret."""
    job = _Job(work, description)
    pending = getattr(_request, "pending", None)
    if pending is None:
        _submit([job])
    else:
        pending.append(job)


def _request_began(**_: object) -> None:
    # Jobs of an earlier request whose response was never closed are not dropped.
    _submit(getattr(_request, "pending", None) or [])
    _request.pending = []


def _request_ended(**_: object) -> None:
    jobs = getattr(_request, "pending", None) or []
    _request.pending = None
    _submit(jobs)


request_started.connect(_request_began, dispatch_uid="kernel.background.request_began")
request_finished.connect(_request_ended, dispatch_uid="kernel.background.request_ended")


def drain(timeout: float = EXIT_WAIT_SECONDS) -> bool:
    """Wait until every queued job has run (at most `timeout` seconds); True if they all did.
    For tests that look at what a job did, and for the process's exit."""
    deadline = time.monotonic() + timeout
    with _jobs.all_tasks_done:
        while _jobs.unfinished_tasks:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            _jobs.all_tasks_done.wait(remaining)
    return True


@atexit.register
def _finish() -> None:
    # Only where this process's own thread can still run the jobs (not in a forked child
    # that inherited a queue but no thread).
    if _thread is not None and _thread_pid == os.getpid() and _thread.is_alive():
        drain()
