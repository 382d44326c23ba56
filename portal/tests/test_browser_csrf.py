"""A tab left open across a logout and a new login (in another tab of the same browser) posts
a form with a token that no longer matches: the portal's styled page, which says to reload and
links back, instead of Django's "CSRF verification failed" page."""

import pytest

from conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_stale_tab_gets_the_styled_page_and_the_retry_works(page_for, site, alice):
    stale = page_for(alice)
    stale.goto(f"{site.url}/accounts/")
    stale.get_by_role("combobox", name="Time zone").select_option("Asia/Tokyo")

    # Another tab of the same browser logs out and in again: a new CSRF token.
    other = stale.context.new_page()
    other.goto(f"{site.url}/accounts/")
    other.locator("header summary", has_text=alice.email).click()
    other.get_by_role("button", name="Log out").click()
    other.wait_for_load_state()
    other.goto(f"{site.url}/accounts/login/")
    other.fill("input[name=username]", alice.email)
    other.fill("input[name=password]", PASSWORD)
    other.click("button[type=submit]")
    other.wait_for_load_state()
    other.close()

    stale.get_by_role("button", name="Save time zone").click()
    stale.wait_for_load_state()
    assert stale.get_by_role("heading", name="This page has expired").is_visible()
    body = stale.locator("main").inner_text()
    assert "Reload the page and try again." in body and "CSRF" not in body and "DEBUG" not in body
    assert stale.locator("link[href*='portal.css']").count() == 1
    alice.refresh_from_db()
    assert alice.time_zone == ""

    # The way back leads to the form, which now works.
    stale.get_by_role("link", name="Back to the page").click()
    stale.wait_for_load_state()
    assert stale.url == f"{site.url}/accounts/"
    stale.get_by_role("combobox", name="Time zone").select_option("Asia/Tokyo")
    stale.get_by_role("button", name="Save time zone").click()
    stale.get_by_text("Times are now shown in Asia/Tokyo.").wait_for()
    alice.refresh_from_db()
    assert alice.time_zone == "Asia/Tokyo"
