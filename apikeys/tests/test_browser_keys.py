"""What a person does on the Manage API Keys page in a real Chromium: copy, reveal, renew,
retire, and what the clipboard and the page then hold."""

import pytest

from apikeys.display import SECRET_MASK
from apikeys.models import ApiSecret
from kernel import crypto

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _open_list(page, site):
    page.goto(f"{site.url}/tenants/acme/api-keys/")
    page.wait_for_load_state()


def _live_digests(key):
    return {bytes(s.digest) for s in ApiSecret.objects.filter(key=key).live()}


def _clipboard(page):
    return page.evaluate("navigator.clipboard.readText()")


def test_an_admin_copies_the_client_id_and_reveals_and_copies_the_secret(page_for, site, alice, acme_secrets):
    key, plaintext = acme_secrets["emporix"]
    page = page_for(alice)
    _open_list(page, site)
    assert plaintext not in page.content()
    row = page.locator(f"#key-{key.public_id}")

    row.get_by_role("button", name="Copy Client ID of Emporix API").click()
    page.get_by_role("status").filter(has_text="Client ID copied").wait_for()
    assert _clipboard(page) == key.client_id

    row.get_by_role("button", name="Show secret of Emporix API").click()
    secret = row.locator("[data-secret-value]")
    secret.filter(has_text="akps_").wait_for()
    assert secret.inner_text() == plaintext
    row.get_by_role("button", name="Hide secret of Emporix API").click()
    assert plaintext not in page.content()
    assert secret.inner_text() == SECRET_MASK

    row.get_by_role("button", name="Copy secret of Emporix API").click()
    page.get_by_role("status").filter(has_text="Secret copied").wait_for()
    assert _clipboard(page) == plaintext
    assert plaintext not in page.content()


def test_renewing_now_takes_its_own_danger_button_and_the_old_secret_stops_working(page_for, site, alice, acme_secrets):
    key, old = acme_secrets["emporix"]
    page = page_for(alice)
    _open_list(page, site)
    renew = page.locator(f"#key-{key.public_id}").get_by_role("link", name="Renew secret of Emporix API")

    # The dialog opens from the keyboard on the preselected day of grace, not on "Now";
    # Escape closes it and focus returns to the icon.
    renew.focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#renew-dialog")
    assert dialog.evaluate("d => d.open")
    assert dialog.get_by_label("After 24 hours").is_checked() and not dialog.get_by_label("Now").is_checked()
    assert dialog.get_by_label("After 24 hours").evaluate("el => el === document.activeElement")
    assert dialog.get_by_role("button", name="Renew secret", exact=True).is_visible()
    assert not dialog.get_by_role("button", name="Renew and stop the old secret now").is_visible()
    page.keyboard.press("Escape")
    assert not dialog.evaluate("d => d.open")
    assert renew.evaluate("el => el === document.activeElement")

    # Choosing "Now" swaps the button for a danger one that says what it does.
    renew.click()
    dialog.get_by_text("Now", exact=True).click()
    assert not dialog.get_by_role("button", name="Renew secret", exact=True).is_visible()
    now = dialog.get_by_role("button", name="Renew and stop the old secret now")
    assert now.is_visible() and "danger" in now.get_attribute("class")
    now.click()
    row = page.locator(f"#key-{key.public_id}")
    row.get_by_text("Key renewed.").wait_for()
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'key-notice'")
    new = row.locator("[data-secret-value]").first.inner_text()
    assert new != old and crypto.is_well_formed_secret(new)
    assert _live_digests(key) == {crypto.digest(new)}
    assert crypto.digest(old) not in _live_digests(key)

    # The copy button next to the message puts the new secret on the clipboard.
    row.get_by_role("button", name="Copy the new secret").click()
    page.get_by_role("status").filter(has_text="Secret copied").wait_for()
    assert _clipboard(page) == new


def test_enter_in_the_renew_dialog_keeps_the_old_secret_for_a_day(page_for, site, alice, acme_secrets):
    key, old = acme_secrets["emporix"]
    page = page_for(alice)
    _open_list(page, site)
    page.locator(f"#key-{key.public_id}").get_by_role("link", name="Renew secret of Emporix API").click()
    page.keyboard.press("Enter")
    page.locator(f"#key-{key.public_id}").get_by_text("Key renewed.").wait_for()
    assert crypto.digest(old) in _live_digests(key) and len(_live_digests(key)) == 2


def test_an_admin_renews_with_a_day_of_grace_and_retires_the_old_secret(page_for, site, alice, acme_secrets):
    key, old = acme_secrets["storefront"]
    page = page_for(alice)
    _open_list(page, site)
    page.locator(f"#key-{key.public_id}").get_by_role("link", name="Renew secret of Storefront API").click()
    dialog = page.locator("#renew-dialog")
    dialog.get_by_text("After 24 hours").click()
    dialog.get_by_role("button", name="Renew secret").click()
    row = page.locator(f"#key-{key.public_id}")
    row.get_by_text("Key renewed.").wait_for()
    assert "Old secret, stops working " in row.inner_text()
    assert crypto.digest(old) in _live_digests(key)

    row.get_by_role("link", name="Retire now").click()
    page.locator("#retire-dialog").get_by_role("button", name="Retire now").click()
    page.get_by_text("Old secret retired").wait_for()
    assert "Old secret, stops working " not in page.locator(f"#key-{key.public_id}").inner_text()
    assert crypto.digest(old) not in _live_digests(key) and len(_live_digests(key)) == 1


def test_a_viewer_sees_no_secret_controls_and_is_refused_directly(page_for, site, bob, acme_secrets):
    key, plaintext = acme_secrets["emporix"]
    page = page_for(bob)
    _open_list(page, site)
    row = page.locator(f"#key-{key.public_id}")
    assert row.get_by_role("button", name="Copy Client ID of Emporix API").is_visible()
    for name in ("Show secret", "Copy secret"):
        assert row.get_by_role("button", name=name).count() == 0
    assert row.get_by_role("link", name="Renew secret").count() == 0

    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    headers = {"X-CSRFToken": token, "Accept": "application/json", "Referer": site.url + "/"}
    for path in (f"{key.public_id}/secret/", f"{key.public_id}/renew/"):
        response = page.request.post(f"{site.url}/tenants/acme/api-keys/{path}", headers=headers, form={"grace": "now"})
        assert response.status == 403 and plaintext not in response.text()

    # On a phone the page does not scroll sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    _open_list(page, site)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
