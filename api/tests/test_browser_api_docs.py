"""The API reference in a real Chromium: Redoc renders the OpenAPI document inside the portal's
layout under the page's Content-Security-Policy (no CSP violation, no script error), axe finds
nothing in either colour scheme at 1280 and 390 px, and nothing scrolls sideways on a phone."""

import pytest

from portal.tests.test_accessibility import AXE, _axe, describe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
REDOC_LOGO = "'https://cdn.redoc.ly/redoc/logo-mini.svg' violates the following Content Security Policy directive"


def open_reference(browser, site, width: int, scheme: str, problems: list[str]):
    context = browser.new_context(viewport={"width": width, "height": 900 if width > 600 else 844}, color_scheme=scheme)
    context.add_init_script(path=str(AXE))  # not an inline script: the page's CSP stays in force
    page = context.new_page()
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{site.url}/api/v1/docs/")  # the old URL leads to the reference
    page.get_by_role("heading", name="API reference", level=1).wait_for()
    page.locator("#api-reference").get_by_text("/api/v1/keys/{key_id}/renew/").first.wait_for(state="attached")
    return context, page


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 390])
def test_the_reference_renders_under_the_csp_and_axe_finds_nothing(browser, site, width, scheme):
    problems: list[str] = []
    context, page = open_reference(browser, site, width, scheme, problems)
    try:
        assert page.url.endswith("/api-reference/")
        assert page.locator(".topbar .brand").is_visible()  # the portal's layout around it
        # Redoc's operations are there, with the portal's colours (its sidebar on the surface).
        assert page.get_by_role("heading", name="Renew an API key's secret").count() >= 1
        violations = describe(f"{width}px {scheme}", _axe(page))
        assert violations == [], "\n".join(violations)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    finally:
        context.close()
    # A CSP refusal would show here as a console error. The one refusal expected: Redoc's
    # "API docs by Redocly" link loads its logo from Redocly's CDN, which the policy keeps out
    # (the link's text stays).
    assert [p for p in problems if REDOC_LOGO not in p] == []


def test_the_keys_page_and_the_menu_lead_to_the_reference(page_for, site, alice, acme):
    page = page_for(alice)
    page.goto(f"{site.url}/tenants/acme/api-keys/")
    page.get_by_role("link", name="API reference").click()
    page.get_by_role("heading", name="API reference", level=1).wait_for()
    assert page.url.endswith("/api-reference/")
    # Signed in, the reference has the portal's menu, and the menu leads to it from any page.
    page.goto(f"{site.url}/accounts/")
    menu = page.locator("header details.menu").last
    menu.locator("summary").click()
    menu.get_by_role("link", name="API reference").click()
    page.get_by_role("heading", name="API reference", level=1).wait_for()
    page.locator("header details.menu").last.locator("summary").click()
    assert page.locator("header").get_by_role("link", name="API reference").get_attribute("aria-current") == "page"
