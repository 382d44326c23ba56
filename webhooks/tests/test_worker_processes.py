"""The worker as it runs in production: `manage.py webhooks_deliver` processes against the test
database (PostgreSQL: they need a database other processes can see). A worker killed with
SIGKILL mid-delivery loses nothing: its claimed deliveries are due again after the lease (the
clock is moved past it rather than waited for), and the receiver sees a delivery twice at most,
with the same webhook-id. Two workers never take
the same delivery (SELECT ... FOR UPDATE SKIP LOCKED)."""

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.db import connection, connections, transaction
from django.utils import timezone

from apikeys.models import KeyKind
from apikeys.services import key_renew
from conftest import ROOT, all_at_once
from webhooks.delivery import deliver_due, deliveries_claim
from webhooks.models import Delivery, DeliveryStatus, Event

from .conftest import HOLD

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="worker processes need a shared PostgreSQL database"),
]
LEASE = 8  # seconds: longer than starting a worker process takes on a busy machine


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def _worker(*args: str, tmp_path) -> subprocess.Popen:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": _database_url(),
        "SECRET_KEY": "worker-test-secret-key",
        "PORTAL_ENCRYPTION_KEYS": django_settings.PORTAL_ENCRYPTION_KEYS,
        "EMAIL_URL": "filemail://",
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
        "CACHE_URL": "locmemcache://worker",
        "LOG_FORMAT": "plain",
        "WEBHOOKS_ALLOW_HTTP_LOOPBACK": "on",  # the receiver is on 127.0.0.1
        "WEBHOOKS_LEASE_SECONDS": str(LEASE),
        "WEBHOOKS_POLL_INTERVAL": "0.2",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "webhooks_deliver", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _events(count: int, acme_secrets) -> list[str]:
    key = acme_secrets[KeyKind.EMPORIX][0]
    for _ in range(count):
        key_renew(key=key)
    return sorted(str(pk) for pk in Event.objects.values_list("id", flat=True))


@pytest.mark.outside  # worker processes
def test_a_killed_worker_loses_nothing_and_duplicates_only_with_the_same_id(receiver, endpoint, acme_secrets, tmp_path):
    ids = _events(5, acme_secrets)
    receiver.answer(HOLD)  # the first POST hangs: the worker is killed in the middle of it
    worker = _worker("--forever", "--batch", "5", tmp_path=tmp_path)
    try:
        receiver.wait_for(1)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    receiver.release()
    first = receiver.ids()[0]
    claimed = Delivery.objects.filter(status=DeliveryStatus.PENDING)
    assert claimed.count() == 5  # all five claimed, none finished

    # Restarted at once: the dead worker's lease still holds, so nothing is sent twice yet.
    lease_ends = max(claimed.values_list("next_attempt_at", flat=True))
    restarted = _worker("--once", tmp_path=tmp_path)
    output = restarted.communicate(timeout=30)[0]
    if timezone.now() < lease_ends:
        assert "0 delivery attempt(s) made." in output, output
    # Once the lease has ended, the next worker's round (what --once runs) takes them all again:
    # run here with the clock moved past the lease instead of waiting LEASE seconds for it.
    with time_machine.travel(lease_ends + timedelta(seconds=1), tick=True):
        assert deliver_due() == 5

    assert sorted(set(receiver.ids())) == ids  # nothing lost
    counts = Counter(receiver.ids())
    assert counts[first] == 2 and all(counts[i] == 1 for i in ids if i != first)  # the one in flight, again
    assert all(r.verified for r in receiver.received)
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SUCCEEDED}


@pytest.mark.outside  # a worker process
def test_sigterm_lets_a_worker_finish_its_delivery_and_stop(receiver, endpoint, acme_secrets, tmp_path):
    ids = _events(1, acme_secrets)
    receiver.answer(HOLD)
    worker = _worker("--forever", tmp_path=tmp_path)
    receiver.wait_for(1)
    # The signal is pending in the worker before the answer is released: its handler runs
    # before the worker reads the answer, so the delivery in hand finishes after SIGTERM.
    worker.send_signal(signal.SIGTERM)
    receiver.release()
    output = worker.communicate(timeout=30)[0]
    assert worker.returncode == 0 and "Stopped." in output, output
    assert receiver.ids() == ids
    assert Delivery.objects.get().status == DeliveryStatus.SUCCEEDED


def test_two_workers_deliver_each_event_once(receiver, endpoint, acme_secrets):
    ids = _events(20, acme_secrets)
    receiver.answer(*[("sleep", 0.05)] * 20)
    done = all_at_once(2, lambda: deliver_due(batch=1))
    assert sum(done) == 20  # between them, one attempt per delivery
    assert sorted(receiver.ids()) == ids
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}


def test_a_claim_skips_rows_another_worker_holds_instead_of_waiting(endpoint, acme_secrets):
    _events(3, acme_secrets)
    held = Delivery.objects.order_by("next_attempt_at", "id").first()
    locked, finish = threading.Event(), threading.Event()

    def hold_one() -> None:
        try:
            with transaction.atomic():
                Delivery.objects.select_for_update().get(pk=held.pk)
                locked.set()
                finish.wait(10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_one)
    holder.start()
    try:
        assert locked.wait(10)
        started = time.monotonic()
        claimed = deliveries_claim(limit=10)
        assert time.monotonic() - started < 1  # no wait for the lock (lock_timeout would be 2 s)
    finally:
        finish.set()
        holder.join(10)
    assert held.pk not in claimed and len(claimed) == 2
