"""What an admin does on the Webhooks pages in a real Chromium: add an endpoint, copy its
signing secret (shown this once), send a test event to a receiver that checks the signature
with that secret, and read the delivery log."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_adds_an_endpoint_copies_its_secret_and_sends_a_test_event(
    page_for, site, alice, acme, receiver, settings
):
    settings.WEBHOOKS_ALLOW_HTTP_LOOPBACK = True
    page = page_for(alice)
    page.goto(f"{site.url}/tenants/acme/api-keys/")
    page.get_by_role("navigation", name="Tenant").get_by_role("link", name="Webhooks").click()
    page.get_by_label("Endpoint URL").fill(receiver.url)
    page.get_by_role("button", name="Add endpoint").click()
    page.get_by_text("Endpoint added.").wait_for()

    secret = page.locator("#signing-secret").inner_text()
    assert secret.startswith("whsec_")
    page.get_by_role("button", name="Copy signing secret").click()
    page.get_by_role("status").filter(has_text="Signing secret copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    receiver.secret = secret

    page.reload()
    assert secret not in page.content()
    page.get_by_role("button", name="Send test event").click()
    page.get_by_text("Test event delivered: HTTP 200").wait_for()
    (got,) = receiver.received
    assert got.verified and got.payload["type"] == "webhook.test"
    log = page.locator("#deliveries")
    assert "webhook.test" in log.inner_text() and "#1" in log.inner_text() and "HTTP 200" in log.inner_text()
