"""What the portal's long-running workers share (`webhooks_deliver --forever`,
`usage_flush --forever`): stopping on SIGTERM or SIGINT between passes, and resting between
passes without missing a stop."""

import signal
import threading


class StopSignals:
    """SIGTERM and SIGINT handlers for a worker's loop: the first signal asks it to stop after
    the pass in hand (`requested`), a second one ends it at once (KeyboardInterrupt).
    `rest(seconds)` waits between passes and returns as soon as a stop is asked for."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum, frame) -> None:
        if self._stop.is_set():
            raise KeyboardInterrupt
        self._stop.set()

    @property
    def requested(self) -> bool:
        return self._stop.is_set()

    def rest(self, seconds: float) -> None:
        self._stop.wait(seconds)
