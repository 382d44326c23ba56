"""Times in a real Chromium: the browser's time zone reaches the server (the `tz` cookie) and
every later page shows times in it; a relative time on a page left open keeps counting."""

import pytest

from kernel.dates import relative

from .test_dates import MOMENT, RELATIVE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_times_follow_the_browsers_zone_and_stay_true_on_an_open_page(browser, site, alice, acme):
    context = browser.new_context(timezone_id="America/New_York")
    page = context.new_page()
    page.clock.install()
    page.goto(f"{site.url}/accounts/login/")
    page.fill("input[name=username]", alice.email)
    page.fill("input[name=password]", "correct-horse-battery-staple")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert {"name": "tz", "value": "America/New_York"}.items() <= next(
        c for c in context.cookies() if c["name"] == "tz"
    ).items()

    page.goto(f"{site.url}/tenants/acme/activity/")
    when = page.locator("table time").first
    assert when.get_attribute("title")[-4:] in {" EST", " EDT"}
    assert when.get_attribute("datetime")[-6:] in {"-05:00", "-04:00"}
    assert when.inner_text() == "just now"

    page.clock.fast_forward("03:00:00")  # three hours with the page open
    assert when.inner_text() == "3\xa0hours ago"
    context.close()


def test_an_open_page_counts_as_the_server_does(browser, site):
    """portal.js's re-count says what kernel.dates.relative says, in any time zone."""
    context = browser.new_context(timezone_id="Pacific/Auckland")
    page = context.new_page()
    page.clock.set_fixed_time(MOMENT)
    page.goto(f"{site.url}/accounts/login/")
    values = [MOMENT - delta for delta, _ in RELATIVE]
    page.evaluate(
        """(moments) => {
            for (const moment of moments) {
                const element = document.createElement("time");
                element.setAttribute("datetime", moment);
                element.setAttribute("title", moment);
                document.body.append(element);
            }
            window.portal.refreshTimes();
        }""",
        [value.isoformat() for value in values],
    )
    shown = page.locator("body > time").all_inner_texts()
    assert shown == [relative(value, now=MOMENT) for value in values] == [text for _, text in RELATIVE]
    context.close()
