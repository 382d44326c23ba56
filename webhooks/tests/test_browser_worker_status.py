"""The Webhooks page's delivery status and its add form in a real Chromium, at 1280 and 390 px:
the warning when no worker has beaten lately, "Worker running" when one has, the deliveries that
wait, the events preselected without secret reveals; no sideways scroll, and axe finds nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apikeys.models import KeyKind
from apikeys.services import key_renew
from portal.tests.test_accessibility import _axe, _login, describe
from webhooks.events import BY_CODE, PRESELECTED
from webhooks.heartbeat import heartbeat
from webhooks.models import WorkerHeartbeat
from webhooks.services import endpoint_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 390])
def test_the_delivery_status_and_the_preselected_events(browser, site, alice, acme_secrets, acme, width):
    endpoint_create(tenant=acme, url="https://hooks.example.com/keys", event_types=list(BY_CODE))
    key_renew(key=acme_secrets[KeyKind.EMPORIX][0])  # one delivery waits
    heartbeat("old-host:1")
    WorkerHeartbeat.objects.update(beat_at=timezone.now() - timedelta(minutes=42))
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)  # to inject axe
    context.set_default_timeout(10_000)
    try:
        _check(_login(context, site.url, alice.email), site, width)
    finally:
        context.close()


def _check(page, site, width: int) -> None:
    page.goto(f"{site.url}/tenants/acme/webhooks/")
    status = page.locator("#worker-status").inner_text().replace("\xa0", " ")
    assert "No delivery worker has run in the last 5 minutes" in status
    assert "(last heartbeat 42 minutes ago)" in status
    assert page.locator("#deliveries-waiting").inner_text() == "1 delivery waits."
    for code, event in BY_CODE.items():
        box = page.get_by_role("checkbox", name=event.label, exact=True)
        assert box.is_checked() == (code in PRESELECTED), code
    assert not page.get_by_role("checkbox", name="Secret revealed or copied").is_checked()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    report = describe(f"{width}px webhooks, no worker", _axe(page))

    heartbeat("host:2")
    page.reload()
    assert page.locator("#worker-status").inner_text().startswith("Worker running")
    assert "Last heartbeat just now" in page.locator("#worker-status").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    report += describe(f"{width}px webhooks, worker running", _axe(page))

    page.get_by_label("Endpoint URL").fill("not a url")
    page.get_by_role("button", name="Add endpoint").click()
    page.get_by_text("Enter a valid URL.").first.wait_for()
    report += describe(f"{width}px webhooks, form error", _axe(page))
    assert not report, "\n".join(report)
