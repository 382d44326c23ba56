"""Connections spread evenly over gunicorn's workers.

Every worker waits on the same listening socket, and the first to wake takes each new
connection. With kept-alive connections (a load balancer's or proxy's pool, Envoy's or Traefik's
connections to the gateway check, a load generator) a connection stays with the worker that took
it, and the race is uneven: measured with 8 connections opened at once to 2 workers, one worker
took all 8 in 2 runs of 14, and 7 of 8 in 2 more. Each worker runs its Python on one core at a
time, so a server whose connections all sit in one worker serves at about half its rate (1,120
against 2,460 gateway checks a second) for as long as those connections live.

So each worker says, in a small shared memory mapping the master makes before its first fork,
how many connections it holds, and stops accepting while it holds more than SLACK above the
worker with the fewest; that one always accepts, so a connection never waits for nobody. A
worker's entry counts only while it is fresh (each turn of the worker's loop renews it, at least
once a second): a worker that ended, even by SIGKILL, stops counting after STALE_SECONDS, or at
once when the master reaps it (`leave`, from gunicorn.conf.py's child_exit).

Imported into the gunicorn master (gunicorn.conf.py), which must not load Django.
"""

import mmap
import struct
import time

SLOTS = 64  # workers per server; past it, workers share slots and the spreading is rougher
SLACK = 1  # connections a worker may hold above the fewest before it stops accepting
STALE_SECONDS = 2.0
_COUNTS = struct.Struct(f"{SLOTS}q")
_BEATS = struct.Struct(f"{SLOTS}d")
_ONE_COUNT = struct.Struct("q")
_ONE_BEAT = struct.Struct("d")


class ConnectionShares:
    """The workers' connection counts, shared by every process forked after it was made."""

    def __init__(self) -> None:
        # Anonymous and MAP_SHARED (mmap's default): inherited by every process forked later.
        self._memory = mmap.mmap(-1, _COUNTS.size + _BEATS.size)

    @staticmethod
    def slot(age: int) -> int:
        """A worker's slot: gunicorn numbers its workers (age) in the order it forks them."""
        return age % SLOTS

    def report(self, slot: int, connections: int, now: float | None = None) -> None:
        _ONE_COUNT.pack_into(self._memory, slot * 8, connections)
        _ONE_BEAT.pack_into(self._memory, _COUNTS.size + slot * 8, time.monotonic() if now is None else now)

    def leave(self, slot: int) -> None:
        """The worker in `slot` is gone (or stopping): it no longer counts."""
        _ONE_BEAT.pack_into(self._memory, _COUNTS.size + slot * 8, 0.0)

    def fewest_elsewhere(self, slot: int, now: float | None = None) -> int | None:
        """The fewest connections a fresh worker other than `slot`'s holds (None: no other)."""
        moment = time.monotonic() if now is None else now
        counts = _COUNTS.unpack_from(self._memory, 0)
        beats = _BEATS.unpack_from(self._memory, _COUNTS.size)
        fresh = [
            count
            for index, (count, beat) in enumerate(zip(counts, beats, strict=True))
            if index != slot and beat > 0 and moment - beat < STALE_SECONDS
        ]
        return min(fresh, default=None)

    def may_accept(self, slot: int, connections: int, now: float | None = None) -> bool:
        """Whether the worker in `slot`, holding `connections`, should take the next one."""
        if connections <= SLACK:
            return True
        fewest = self.fewest_elsewhere(slot, now)
        return fewest is None or connections <= fewest + SLACK
