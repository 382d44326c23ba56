import re

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_logs_in_through_the_form_and_sees_the_tenant_list(page_for, alice):
    page = page_for(alice)
    assert page.url.endswith("/tenants/")
    assert page.get_by_role("heading", name="Tenants", exact=True).is_visible()
    # No inline script anywhere means the strict CSP holds; the browser would report it.
    assert page.evaluate("document.querySelectorAll('script:not([src])').length") == 0


@pytest.mark.parametrize("width", [1280, 390])
def test_the_lockout_is_its_own_notice_focused_and_clean(browser, site, alice, settings, width):
    """Past the limit the login page says so in its own notice, not under "Please correct the
    errors below", with the wait in words ("15 minutes", never "minute(s)"); axe finds nothing."""
    from portal.tests.test_accessibility import _axe, describe

    settings.LOGIN_FAILURE_LIMIT_PER_EMAIL = 1
    context = browser.new_context(viewport={"width": width, "height": 900 if width > 600 else 844}, bypass_csp=True)
    page = context.new_page()
    page.goto(f"{site.url}/accounts/login/")
    for password in ("wrong", PASSWORD):
        page.fill("input[name=username]", alice.email)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_load_state()
    notice = page.locator("#login-locked")
    expect(notice.get_by_role("heading", name="Too many failed logins")).to_be_visible()
    expect(notice).to_contain_text(re.compile(r"Try again in \d+ (minutes?|seconds?)\."))
    expect(notice).to_be_focused()
    assert page.locator(".error-summary").count() == 0 and "(s)" not in notice.inner_text()
    expect(page.locator("input[name=username]")).to_have_value(alice.email)
    violations = describe(f"{width}px login locked", _axe(page))
    assert violations == [], "\n".join(violations)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    context.close()
