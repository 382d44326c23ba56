"""The dark colour scheme (static/css/portal.css: :root's custom properties again inside
@media (prefers-color-scheme: dark)): Chromium emulating a system set to dark, axe finds no
colour violation (contrast, links told apart from text) on every main page and state at 1280 and 390 px, and each page is
really dark (its background is the dark --bg). portal/tests/test_accessibility.py covers the
light scheme.

To cover a new page or state, add a State to STATES: a name, a path (formatted with the ids
of the `objects` fixture: {custom}, {emporix}, {endpoint}), and, if the state needs more than
loading the page, a `prepare(page)` that brings it about and waits for it."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from conftest import browser_login
from portal.tests.test_accessibility import AXE, cast, describe  # noqa: F401 (cast: a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DARK_BG = "rgb(15, 20, 27)"  # --bg in the dark scheme
# What the scheme changes: colours. axe's colour rules (text contrast, links told from the text
# around them by colour); every other rule is the light test's, on the same markup.
COLOUR_RULES = {"runOnly": {"type": "rule", "values": ["color-contrast", "link-in-text-block"]}}
KEYS = "/tenants/acme/api-keys/"


def open_get_started(page) -> None:
    page.get_by_role("link", name="Get started").first.click()
    page.locator("#get-started-dialog[open] [data-get-started-body] pre").first.wait_for()


def open_renew_dialog(page) -> None:
    page.get_by_role("link", name="Renew secret of Emporix API").click()
    page.locator("dialog[open]").wait_for()


def reveal_secret(page) -> None:
    page.get_by_role("button", name="Show secret of Emporix API").click()
    page.locator("[data-secret-value]").filter(has_text="akps_").first.wait_for()


def csrf_failure(page) -> None:
    # A form whose token no longer matches, as from a tab left open across a re-login.
    page.evaluate(
        """() => { const f = document.createElement('form'); f.method = 'post'; f.action = '/accounts/time-zone/';
        const t = document.createElement('input'); t.type = 'hidden'; t.name = 'csrfmiddlewaretoken'; t.value = 'x'.repeat(64);
        f.append(t); document.body.append(f); f.submit(); }"""
    )
    page.get_by_role("heading", name="This page has expired").wait_for()


def reference_rendered(page) -> None:
    page.locator("#api-reference").get_by_text("/api/v1/keys/{key_id}/renew/").first.wait_for(state="attached")


def open_user_menu(page) -> None:
    page.locator("header details.menu").last.locator("summary").click()


@dataclass(frozen=True)
class State:
    name: str
    path: str
    prepare: Callable | None = None
    anonymous: bool = False


STATES = [
    State("login", "/accounts/login/", anonymous=True),
    State("404 page, signed out", "/no-such-page/", anonymous=True),
    State("tenant list", "/tenants/"),
    State("keys page, cards", KEYS),
    State("keys page, user menu open", KEYS, open_user_menu),
    State("keys page, a secret revealed", KEYS, reveal_secret),
    State("keys page, renew dialog open", KEYS, open_renew_dialog),
    State("keys page, Get started dialog open", KEYS, open_get_started),
    State("keys page, table", f"{KEYS}?view=table"),
    State("create key form", f"{KEYS}new/"),
    State("a key's settings", KEYS + "{custom}/settings/"),
    State("a built-in key's settings", KEYS + "{emporix}/settings/"),
    State("report a leaked secret", f"{KEYS}report-leak/"),
    State("activity", "/tenants/acme/activity/"),
    State("members", "/tenants/acme/members/"),
    State("webhooks", "/tenants/acme/webhooks/"),
    State("a webhook endpoint", "/tenants/acme/webhooks/{endpoint}/"),
    State("my account", "/accounts/"),
    State("API reference", "/api-reference/", reference_rendered),
    State("404 page", "/no-such-page/"),
    State("403 page (CSRF failure)", "/accounts/", csrf_failure),
    State("a key's scopes", KEYS + "{custom}/scopes/"),
    State("disabling a built-in key, confirmation", KEYS + "{emporix}/disable/"),
    State("bulk action, confirmation", f"{KEYS}bulk/?action=disable&scope=matching"),
    State("re-authentication", "/accounts/reauthenticate/?next=" + KEYS + "{custom}/edit/"),
    State("activity, key search", "/tenants/acme/activity/?key=Orders"),
]


@pytest.fixture
def objects(cast):  # noqa: F811
    from apikeys.models import Environment
    from apikeys.services import KeyMetadata, key_metadata_set
    from webhooks.services import endpoint_create

    # What a key is for, shown in its row: the environment badge and labels in both schemes.
    key_metadata_set(
        key=cast["custom"],
        metadata=KeyMetadata(description="Order export", environment=Environment.PRODUCTION, labels=("erp",)),
    )

    endpoint, _ = endpoint_create(
        tenant=cast["custom"].tenant, url="https://hooks.example.com/portal", event_types=["key.created"]
    )
    return {"custom": cast["custom"].public_id, "emporix": cast["emporix"].public_id, "endpoint": endpoint.public_id}


def _context(browser, width: int):
    context = browser.new_context(viewport={"width": width, "height": 900 if width > 600 else 844}, color_scheme="dark")
    context.set_default_timeout(15_000)
    context.add_init_script(path=str(AXE))  # not an inline script: each page's CSP stays in force
    return context


@pytest.mark.parametrize("width", [1280, 390])
def test_axe_finds_nothing_in_the_dark_scheme(browser, site, alice, objects, width):
    assert AXE.exists(), "axe-core is missing: run `npm ci` (make test does)"
    anonymous, signed_in = _context(browser, width), _context(browser, width)
    browser_login(signed_in.new_page(), site, alice).close()
    report: list[str] = []
    try:
        for state in STATES:
            page = (anonymous if state.anonymous else signed_in).new_page()
            page.goto(site.url + state.path.format(**objects))
            page.wait_for_load_state()
            if state.prepare:
                state.prepare(page)
            background = page.evaluate("getComputedStyle(document.body).backgroundColor")
            assert background == DARK_BG, f"{state.name}: the page is not in the dark scheme ({background})"
            violations = page.evaluate("options => axe.run(document, options).then(r => r.violations)", COLOUR_RULES)
            report += describe(f"{width}px dark {state.name}", violations)
            page.close()
    finally:
        anonymous.close()
        signed_in.close()
    assert not report, "axe-core found violations in the dark scheme:\n" + "\n".join(report)
