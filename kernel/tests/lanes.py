"""Helpers of the fast lanes' equivalence tests (gateway/tests/test_fastlane.py,
oauth/tests/test_fastlane.py): serve a WSGI environ as a server would, and read what a run of
requests left in the metrics and the log."""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.core.signals import request_started
from prometheus_client import REGISTRY

from kernel import logs


@dataclass
class Served:
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    started: int  # Django's request_started signals while it was served


class Records(logging.Handler):
    """Every record logged while it is attached, with its request id."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.addFilter(logs.RequestIdFilter())
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def __enter__(self) -> "Records":
        logging.getLogger().addHandler(self)
        return self

    def __exit__(self, *_: object) -> None:
        logging.getLogger().removeHandler(self)

    def compared(self) -> list[tuple]:
        """What two runs' records must share: logger, level, message and arguments (the request
        line's duration left out), the request's method, path, status and tenant, and its id."""
        return [
            (
                record.name,
                record.levelno,
                record.msg,
                tuple(
                    arg for i, arg in enumerate(record.args or ()) if not (record.name == "portal.request" and i == 3)
                ),
                {name: getattr(record, name, None) for name in ("method", "path", "status", "tenant")},
                record.request_id,
            )
            for record in self.records
        ]


def environ_with(environ: dict, changes: dict) -> dict:
    """`environ` with `changes` made: a value set, or None for no such key."""
    for name, value in changes.items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
    return environ


def serve(application: Callable, environ: dict) -> Served:
    """Call `application` with `environ` as a WSGI server does: the body read, then closed."""
    started = []

    def count(**_: object) -> None:
        started.append(1)

    answer: dict = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info=None) -> None:
        answer.update(status=status, headers=list(headers))

    request_started.connect(count)
    try:
        chunks: Iterable[bytes] = application(environ, start_response)
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
    finally:
        request_started.disconnect(count)
    return Served(answer["status"], answer["headers"], body, len(started))


def metric_samples(names: tuple[str, ...]) -> dict[tuple, float]:
    """The samples of the metric families `names`, but histogram buckets and sums (a lane is
    faster: its requests fall in other buckets)."""
    found = {}
    for family in REGISTRY.collect():
        if family.name not in names:
            continue
        for sample in family.samples:
            if sample.name.endswith(("_bucket", "_sum")):
                continue
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found
