"""The top bar's menus (tenant switcher, user menu) in a real Chromium: Escape closes one and
gives focus back to its button, a click outside closes it, only one is open at a time, and the
switcher's name contains what it shows."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_menus_close_on_escape_and_outside_click_one_at_a_time(page_for, site, alice, acme):
    page = page_for(alice)
    page.goto(f"{site.url}/tenants/acme/api-keys/")
    switcher = page.locator("header details.menu").first
    user_menu = page.locator("header details.menu").last
    is_open = "d => d.open"

    # Its accessible name holds its visible text (axe label-content-name-mismatch).
    summary = switcher.locator("summary")
    assert "acme Acme Corp" in summary.inner_text()
    assert (
        page.locator("header summary", has_text="acme Acme Corp")
        .evaluate("el => el.textContent.replace(/\\s+/g, ' ').trim()")
        .startswith("Switch tenant, current: acme Acme Corp")
    )

    summary.click()
    assert switcher.evaluate(is_open)
    page.keyboard.press("Escape")
    assert not switcher.evaluate(is_open)
    assert summary.evaluate("el => el === document.activeElement")

    # Escape from inside the panel too.
    page.keyboard.press("Enter")
    assert switcher.evaluate(is_open)
    page.keyboard.press("Tab")
    assert switcher.locator(".menu-panel a").first.evaluate("el => el === document.activeElement")
    page.keyboard.press("Escape")
    assert not switcher.evaluate(is_open)
    assert summary.evaluate("el => el === document.activeElement")

    # Opening one closes the other.
    summary.click()
    page.keyboard.press("Escape")
    user_menu.locator("summary").click()
    assert user_menu.evaluate(is_open)
    switcher.locator("summary").click()
    assert switcher.evaluate(is_open) and not user_menu.evaluate(is_open)

    # A click anywhere else closes it.
    page.locator("h1").click()
    assert not switcher.evaluate(is_open) and not user_menu.evaluate(is_open)

    # So does moving focus out of it with Tab.
    user_menu.locator("summary").click()
    for _ in range(5):  # All tenants, My Account, API reference, Log out, then out of the menu
        page.keyboard.press("Tab")
    assert not user_menu.evaluate(is_open)
