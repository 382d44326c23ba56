"""Runs that must not overlap: a job every host's timer starts at the same time (the daily
key-hygiene run) does its work once, in whichever process gets there first.

PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`) on a constant key, held by
the process's connection for the whole run and released at its end, or by the server when the
process dies and its session ends: no lease to expire, nothing left behind by a crash.

SQLite: the database is a file on one host, so the processes that share it share that host's
file locks: an exclusive `flock` on a file beside the database (`db.sqlite3.<name>.lock`),
released by the kernel when the process ends. An in-memory database belongs to one process
and needs no lock."""

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connections


@contextmanager
def run_alone(name: str, key: int, *, using: str = "default") -> Iterator[bool]:
    """Yields True if this process now holds the lock `name` (PostgreSQL: advisory lock `key`,
    a signed 64-bit constant unique among the portal's locks) until the block ends; False at
    once, without waiting, if another process holds it: the caller then does nothing."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with _advisory_lock(connection, key) as held:
            yield held
    elif connection.vendor == "sqlite" and not connection.is_in_memory_db():
        with file_lock(Path(f"{connection.settings_dict['NAME']}.{name}.lock")) as held:
            yield held
    elif connection.vendor == "sqlite":
        yield True
    else:
        raise NotImplementedError(f"run_alone() does not know {connection.vendor}")


@contextmanager
def _advisory_lock(connection, key: int) -> Iterator[bool]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        held = cursor.fetchone()[0]
    if not held:
        yield False
        return
    try:
        yield True
    finally:
        # The lock belongs to the session: unlocked here, the pool may hand the connection to
        # another thread. (If the connection was lost meanwhile, so was the lock.)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


@contextmanager
def file_lock(path: Path) -> Iterator[bool]:
    """An exclusive flock on `path` (created if missing) for the block: True if taken, False
    at once if another open file holds it (in this process or another)."""
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
