"""The Webhooks page says whether a delivery worker is alive (its last heartbeat, written on
every pass of the worker's loop) and how many deliveries wait; with no heartbeat in the last
WEBHOOKS_WORKER_STALE_MINUTES it warns. The clock is moved with time-machine, never slept.
A new endpoint's events are preselected without "Secret revealed or copied"."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from apikeys.models import KeyKind
from apikeys.services import key_renew
from webhooks.events import BY_CODE, EVENT_TYPES, PRESELECTED
from webhooks.forms import EndpointForm
from webhooks.heartbeat import heartbeat, heartbeats_purge, worker_name
from webhooks.models import Delivery, Endpoint, WorkerHeartbeat
from webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db
LIST = reverse("webhooks:list", kwargs={"code": "acme"})
NONE_RUNS = "No delivery worker has run in the last 5 minutes"


def status(client) -> str:
    body = client.get(LIST).content.decode()
    start = body.index('id="delivery-heading"')
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", body[start : body.index("</section>", start)]))


def test_with_no_worker_ever_the_page_warns(client_for, alice, acme):
    text = status(client_for(alice))
    assert NONE_RUNS in text and "last heartbeat" not in text and "make run" in text
    assert "No deliveries wait." in text


def test_a_fresh_heartbeat_shows_the_worker_running_until_it_goes_stale(client_for, alice, acme):
    client = client_for(alice)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        heartbeat("host:1")
        assert "Worker running Last heartbeat just now." in status(client)
        clock.shift(timedelta(minutes=2))
        text = status(client)
        assert "Worker running Last heartbeat 2 minutes ago." in text and NONE_RUNS not in text
        clock.shift(timedelta(minutes=2, seconds=59))  # 4 min 59 s after the beat
        assert "Worker running" in status(client)
        clock.shift(timedelta(seconds=2))  # 5 min 1 s
        text = status(client)
        assert NONE_RUNS in text and "(last heartbeat 5 minutes ago)" in text and "Worker running" not in text
        heartbeat("host:1")  # it beats again: running again, one row still
        assert "Worker running" in status(client) and WorkerHeartbeat.objects.count() == 1


def test_the_stale_limit_is_a_setting_and_several_workers_are_counted(client_for, alice, acme, settings):
    settings.WEBHOOKS_WORKER_STALE_MINUTES = 1
    client = client_for(alice)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        heartbeat("host:1")
        heartbeat("host:2")
        assert "(2 workers)" in status(client)
        clock.shift(timedelta(seconds=61))
        assert "No delivery worker has run in the last 1 minutes" in status(client)


def test_the_worker_command_writes_its_heartbeat(client_for, alice, acme):
    with time_machine.travel(timezone.now(), tick=False):
        call_command("webhooks_deliver", "--once")
        beat = WorkerHeartbeat.objects.get()
        assert beat.worker == worker_name() and beat.beat_at == timezone.now()
    assert "Worker running" in status(client_for(alice))


def test_old_heartbeat_rows_are_purged(acme):
    with time_machine.travel(timezone.now() - timedelta(days=8), tick=False):
        heartbeat("gone:1")
    heartbeat("here:2")
    assert heartbeats_purge() == 1
    assert list(WorkerHeartbeat.objects.values_list("worker", flat=True)) == ["here:2"]


def test_waiting_deliveries_are_counted_for_this_tenant_only(client_for, alice, acme, acme_secrets, globex):
    endpoint_create(tenant=acme, url="https://hooks.example.com/a", event_types=list(BY_CODE))
    endpoint_create(tenant=globex, url="https://hooks.example.com/g", event_types=list(BY_CODE))
    key_renew(key=acme_secrets[KeyKind.EMPORIX][0])
    key_renew(key=acme_secrets[KeyKind.EMPORIX][0])
    key_renew(key=globex.apikeys.get(kind=KeyKind.EMPORIX))
    assert Delivery.objects.count() == 3
    client = client_for(alice)
    assert "2 deliveries wait." in status(client)
    Delivery.objects.filter(endpoint__tenant=acme).update(next_attempt_at=timezone.now() + timedelta(minutes=5))
    Delivery.objects.filter(pk=Delivery.objects.filter(endpoint__tenant=acme).first().pk).update(
        next_attempt_at=timezone.now()
    )
    assert "2 deliveries wait (1 due now, the others for a retry)." in status(client)


def test_a_new_endpoint_preselects_every_event_but_secret_reveals(client_for, alice, acme):
    assert "key.secret_revealed" not in PRESELECTED and len(PRESELECTED) == len(EVENT_TYPES) - 1
    assert EndpointForm()["event_types"].initial == PRESELECTED
    assert Endpoint._meta.get_field("event_types").get_default() == []
    body = client_for(alice).get(LIST).content.decode()
    checked = set(re.findall(r'<input type="checkbox" name="event_types" value="([^"]+)"[^>]*checked', body))
    assert checked == set(PRESELECTED)
    assert 'value="key.secret_revealed"' in body
    assert "Every event but “Secret revealed or copied” is ticked to begin with" in body


def test_an_endpoints_settings_tick_its_own_events_only(client_for, alice, acme):
    endpoint, _ = endpoint_create(tenant=acme, url="https://hooks.example.com/a", event_types=["key.secret_revealed"])
    page = reverse("webhooks:detail", kwargs={"code": "acme", "endpoint_id": endpoint.public_id})
    body = client_for(alice).get(page).content.decode()
    checked = set(re.findall(r'<input type="checkbox" name="event_types" value="([^"]+)"[^>]*checked', body))
    assert checked == {"key.secret_revealed"} and "ticked to begin with" not in body


def test_an_endpoints_page_warns_above_its_deliveries_only_when_no_worker_runs(client_for, alice, acme):
    endpoint, _ = endpoint_create(tenant=acme, url="https://hooks.example.com/a", event_types=list(BY_CODE))
    page = reverse("webhooks:detail", kwargs={"code": "acme", "endpoint_id": endpoint.public_id})
    client = client_for(alice)
    body = client.get(page).content.decode()
    assert NONE_RUNS in body[body.index('id="log-heading"') :]
    heartbeat("host:1")
    assert NONE_RUNS not in client.get(page).content.decode()


def test_the_status_costs_two_queries_and_the_worker_part_one(acme, django_assert_num_queries):
    from webhooks.heartbeat import delivery_status, worker_status

    heartbeat("host:1")
    with django_assert_num_queries(2):
        assert delivery_status(acme).ok
    with django_assert_num_queries(1):
        assert worker_status().alive == 1
