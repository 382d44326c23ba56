"""The keys page's dialogs and what they say, in a real Chromium at 1280 and 390 px, with axe at
zero in each state (issue 20, items 4, 5, 6, 8, 9, 13, 14): every dialog of the portal opens on a
safe element (Enter there changes nothing); Disable asks first, in a dialog or on a page without
JavaScript; the Get started dialog's code blocks are focusable and its "loaded" is said inside it;
scopes by service; a viewer's copy says the secret is masked; without JavaScript the picker still
counts, the new secret is there to select and Get started has no dead buttons; a field's error
goes once it is changed."""

import re
from datetime import timedelta
from pathlib import Path

import pytest

from apikeys.display import SECRET_MASK
from apikeys.models import ApiKey, ApiSecret, KeyKind
from apikeys.services import key_create, key_renew
from portal.tests.test_accessibility import _axe, describe
from scopes.models import Scope
from tenants.models import Membership

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = [1280, 390]
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
KEYS = "/tenants/acme/api-keys/"


@pytest.fixture
def open_as(page_for):
    """open_as(user, width, javascript=True) -> a logged-in page (axe can be injected: CSP bypassed)."""
    return lambda user, width, javascript=True: page_for(user, width=width, javascript=javascript, bypass_csp=True)


@pytest.fixture
def cast(acme_secrets, catalogue):
    tenant = acme_secrets[KeyKind.EMPORIX][0].tenant
    scopes = Scope.objects.filter(name__in=["tax.tax_read", "tax.tax_manage", "approval.approval_read"])
    custom = key_create(tenant=tenant, kind=KeyKind.CUSTOM, name="Orders sync", scopes=scopes)[0]
    key_renew(key=custom, grace=timedelta(hours=24))  # an old secret to retire
    return {"emporix": acme_secrets[KeyKind.EMPORIX][0], "custom": custom}


class Axe:
    def __init__(self, page, width):
        self.page, self.width, self.report = page, width, []

    def check(self, state):
        self.report += describe(f"{self.width}px {state}", _axe(self.page))
        assert self.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), state

    def assert_clean(self):
        assert not self.report, "axe-core found violations:\n" + "\n".join(self.report)


def _focused(page) -> dict:
    return page.evaluate(
        """() => { const el = document.activeElement; return { tag: el.tagName, text: el.textContent.trim(),
        danger: el.classList.contains('danger'), submit: el.type === 'submit', inDialog: !!el.closest('dialog[open]') }; }"""
    )


def _dialog_ids_in_templates() -> set[str]:
    ids = set()
    for path in TEMPLATES.rglob("*.html"):
        ids |= set(re.findall(r'<dialog id="([^"]+)"', path.read_text()))
    return ids


@pytest.mark.parametrize("width", WIDTHS)
def test_every_dialog_of_the_portal_opens_on_a_safe_element(open_as, site, alice, bob, cast, width):
    """Opens each <dialog> the templates have, from the page that has it: focus is inside the
    dialog, never on a danger or submit button (Cancel, the preselected choice or Close), so
    Enter completes nothing; axe finds nothing with it open."""
    page = open_as(alice, width)
    axe = Axe(page, width)
    custom, emporix = cast["custom"], cast["emporix"]
    old_secrets = set(ApiSecret.objects.filter(key=custom).in_grace().values_list("pk", flat=True))
    assert old_secrets
    opened = set()

    def open_dialog(path, opener, dialog_id, state):
        page.goto(site.url + path)
        page.wait_for_load_state()
        opener().click()
        dialog = page.locator(f"#{dialog_id}")
        dialog.wait_for()
        page.wait_for_function(f"() => document.getElementById('{dialog_id}').contains(document.activeElement)")
        focused = _focused(page)
        assert focused["inDialog"] and not focused["danger"], (dialog_id, focused)
        if dialog_id != "renew-dialog":  # renew starts on its preselected grace period, a radio
            assert not focused["submit"], (dialog_id, focused)
        axe.check(state)
        opened.add(dialog_id)
        return dialog

    # Retire: Enter on the initial focus (Cancel) closes the dialog; the old secret still works.
    open_dialog(
        f"{KEYS}?view=cards",
        lambda: page.locator("[data-dialog='retire-dialog']").first,
        "retire-dialog",
        "retire dialog",
    )
    page.keyboard.press("Enter")
    page.wait_for_function("() => !document.getElementById('retire-dialog').open")
    assert set(ApiSecret.objects.filter(key=custom).in_grace().values_list("pk", flat=True)) == old_secrets

    open_dialog(
        KEYS, lambda: page.get_by_role("link", name="Renew secret of Emporix API"), "renew-dialog", "renew dialog"
    )
    page.keyboard.press("Escape")

    dialog = open_dialog(
        KEYS, lambda: page.get_by_role("link", name="Get started with Emporix API"), "get-started-dialog", "get started"
    )
    dialog.locator("[data-get-started]").wait_for()
    axe.check("get started dialog loaded")

    open_dialog(
        f"{KEYS}{emporix.public_id}/settings/",
        lambda: page.get_by_role("link", name="Disable Emporix API…"),
        "disable-dialog",
        "disable dialog",
    )
    page.keyboard.press("Enter")  # Cancel
    page.wait_for_function("() => !document.getElementById('disable-dialog').open")
    emporix.refresh_from_db()
    assert emporix.disabled_at is None

    members = Membership.objects.filter(tenant__code="acme").count()
    open_dialog(
        "/tenants/acme/members/", lambda: page.locator("[data-dialog='remove-dialog']").first, "remove-dialog", "remove"
    )
    page.keyboard.press("Enter")
    page.wait_for_function("() => !document.getElementById('remove-dialog').open")
    assert Membership.objects.filter(tenant__code="acme").count() == members

    # Every dialog the portal's templates have was opened here.
    assert opened == _dialog_ids_in_templates()
    axe.assert_clean()


@pytest.mark.parametrize("width", WIDTHS)
def test_disabling_a_built_in_key_asks_in_strong_words_and_says_where_it_went(open_as, site, alice, cast, width):
    emporix = cast["emporix"]
    page = open_as(alice, width)
    axe = Axe(page, width)
    page.goto(f"{site.url}{KEYS}{emporix.public_id}/settings/")
    page.get_by_role("link", name="Disable Emporix API…").click()
    dialog = page.locator("#disable-dialog")
    dialog.wait_for()
    text = dialog.inner_text()
    assert "it holds every scope of every service" in text and "stay revoked" in text
    assert dialog.get_by_role("button", name="Cancel").evaluate("el => el === document.activeElement")
    dialog.get_by_role("button", name="Disable Emporix API").click()
    notice = page.locator(f"#key-{emporix.public_id} #key-notice")
    notice.filter(has_text="Emporix API is disabled").wait_for()
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'key-notice'")
    emporix.refresh_from_db()
    assert emporix.disabled_at is not None
    axe.check("keys page after disabling (notice in the card)")
    axe.assert_clean()


@pytest.mark.parametrize("width", WIDTHS)
def test_retiring_is_said_beside_the_key(open_as, site, alice, cast, width):
    custom = cast["custom"]
    page = open_as(alice, width)
    axe = Axe(page, width)
    page.goto(f"{site.url}{KEYS}?view=cards")
    page.locator(f"#key-{custom.public_id}").get_by_role("link", name="Retire now").click()
    page.locator("#retire-dialog").get_by_role("button", name="Retire now").click()
    page.locator(f"#key-{custom.public_id} #key-notice").filter(has_text="Old secret retired.").wait_for()
    assert page.locator(".messages").count() == 0
    axe.check("keys page after retiring")
    axe.assert_clean()


@pytest.mark.parametrize("width", WIDTHS)
def test_get_started_code_blocks_scroll_by_keyboard_and_a_viewer_copies_the_mask(open_as, site, bob, cast, width):
    page = open_as(bob, width)
    axe = Axe(page, width)
    page.goto(site.url + KEYS)
    axe.check("keys page as a viewer")
    note = page.locator("#secrets-hidden-note")
    assert "admins and developers can show and copy them" in note.inner_text()

    page.get_by_role("link", name="Get started with Emporix API").click()
    dialog = page.locator("#get-started-dialog")
    dialog.locator("[data-get-started]").wait_for()
    # Said in the dialog's own live region; the page's toast stays empty, covering nothing.
    dialog.locator("[data-get-started-status]").filter(has_text="Get started loaded").wait_for()
    assert page.locator("[data-live-region]").inner_text() == ""
    blocks = dialog.locator("pre:not([hidden])")
    assert blocks.count() >= 3
    for index in range(blocks.count()):
        block = blocks.nth(index)
        assert block.get_attribute("tabindex") == "0" and block.get_attribute("aria-label")
    blocks.first.focus()
    assert blocks.first.evaluate("el => el === document.activeElement")
    axe.check("get started dialog as a viewer")

    copy = dialog.get_by_role("button", name=re.compile(r"^Copy the cURL"))
    copy.click()
    dialog.locator("#snippet-curl [data-copy-status]").filter(has_text="Copied (secret masked)").wait_for()
    assert SECRET_MASK in page.evaluate("navigator.clipboard.readText()")
    axe.assert_clean()


@pytest.mark.parametrize("width", WIDTHS)
def test_scopes_by_service_in_the_card_the_popover_and_the_scopes_page(open_as, site, alice, cast, width):
    custom = cast["custom"]
    for n in range(6):  # more than a handful of custom keys: the table
        key_create(tenant=custom.tenant, kind=KeyKind.CUSTOM, name=f"Extra {n}", scopes=Scope.objects.offered()[:2])
    page = open_as(alice, width)
    axe = Axe(page, width)
    page.goto(f"{site.url}{KEYS}?view=cards&q=Orders")
    card = page.locator(f"#key-{custom.public_id}")
    card.locator("details.scopes > summary").click()
    groups = card.locator(".scope-group h4.scope-group-title")
    assert groups.count() == 2
    assert all("Orders sync" not in groups.nth(i).inner_text() for i in range(2))
    assert (
        "no operation (see the note)" in card.inner_text()
        and "Opens no operation of the route table" in card.inner_text()
    )
    axe.check("card with its scopes by service")

    page.goto(f"{site.url}{KEYS}")
    row = page.locator(f"#key-{custom.public_id}")
    row.locator("details.scopes > summary").click()
    panel = row.locator(".popover-panel")
    assert "2 services · opens" in panel.inner_text()
    axe.check("table popover with scopes by service")

    page.goto(f"{site.url}{KEYS}{custom.public_id}/scopes/")
    page.locator("details.scope-operations > summary").first.click()
    assert page.locator(".operations li").count() > 0
    axe.check("a key's Scopes page")
    axe.assert_clean()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_fields_error_goes_once_it_is_changed(open_as, site, alice, cast, width):
    page = open_as(alice, width)
    axe = Axe(page, width)
    page.goto(f"{site.url}{KEYS}new/")
    page.get_by_role("button", name="Generate key").click()
    page.wait_for_load_state()
    name = page.get_by_label("Name")
    assert name.get_attribute("aria-invalid") == "true"
    assert page.locator("#id_name_error").count() == 1
    name.fill("Fresh key")
    assert page.locator("#id_name_error").count() == 0
    assert name.get_attribute("aria-invalid") is None
    assert "id_name_error" not in (name.get_attribute("aria-describedby") or "")
    assert page.locator(".field.has-error").count() == 0
    # The scope picker's error (none chosen) goes with the first ticked box.
    page.locator("details[data-scope-service] summary").first.click()
    page.locator("input[name=scopes]").first.check()
    assert page.locator("[data-scope-picker].has-error").count() == 0
    axe.check("create form, errors fixed")
    axe.assert_clean()


@pytest.mark.parametrize("width", WIDTHS)
def test_without_javascript(open_as, site, alice, cast, width):
    emporix = cast["emporix"]
    page = open_as(alice, width, javascript=False)
    axe_page = open_as(alice, width)  # axe needs scripts: the no-script pages are checked with scripts on
    axe = Axe(axe_page, width)

    # The picker counts the ticked boxes as they change.
    page.goto(f"{site.url}{KEYS}new/")
    live = page.locator(".scope-count-live")
    assert live.is_visible() and live.inner_text().startswith("Scopes selected:")
    assert not page.locator("[data-scope-count]").is_visible()
    # The number is CSS generated content (not in innerText): its pixels change with the ticks.
    none_ticked = live.screenshot()
    service = page.locator("details[data-scope-service]").first
    service.locator("summary").click()
    boxes = service.locator("input[name=scopes]")
    boxes.nth(0).check()
    one_ticked = live.screenshot()
    boxes.nth(1).check()
    two_ticked = live.screenshot()
    assert len({none_ticked, one_ticked, two_ticked}) == 3
    boxes.nth(1).uncheck()
    assert live.screenshot() == one_ticked
    boxes.nth(1).check()
    page.get_by_label("Name").fill("No script key")
    page.get_by_role("button", name="Generate key").click()
    page.wait_for_load_state()
    key = ApiKey.objects.get(name="No script key")
    notice = page.locator("#key-notice")
    assert not notice.get_by_role("button", name="Copy the new secret").is_visible()
    assert "select it and copy it" in notice.inner_text()
    assert "akps_" in page.locator(f"#key-{key.public_id} [data-secret-value]").inner_text()

    # Get started: no dead Copy button; the code is there to select.
    page.goto(f"{site.url}{KEYS}{emporix.public_id}/get-started/")
    assert page.get_by_role("button", name=re.compile("^Copy")).count() == 0
    assert page.locator("pre").first.is_visible()

    # Disable: the settings page's link leads to a confirmation page.
    page.goto(f"{site.url}{KEYS}{emporix.public_id}/settings/")
    page.get_by_role("link", name="Disable Emporix API…").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Disable Emporix API?").is_visible()
    assert "stay revoked" in page.inner_text("main")
    axe_page.goto(page.url)
    axe.check("disable confirmation page")
    page.get_by_role("button", name="Disable Emporix API").click()
    page.wait_for_load_state()
    emporix.refresh_from_db()
    assert emporix.disabled_at is not None
    assert "Emporix API is disabled" in page.locator(f"#key-{emporix.public_id} #key-notice").inner_text()
    axe.assert_clean()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_get_started_dialog_stays_clean_through_copy_and_try_it(open_as, site, alice, cast, width):
    page = open_as(alice, width)
    axe = Axe(page, width)
    page.goto(site.url + KEYS)
    page.get_by_role("link", name="Get started with Emporix API").click()
    dialog = page.locator("#get-started-dialog")
    dialog.locator("[data-get-started]").wait_for()
    dialog.get_by_role("button", name=re.compile(r"^Copy the Python")).click()
    dialog.locator("#snippet-python [data-copy-status]").filter(has_text="Copied with the secret").wait_for()
    axe.check("get started dialog after a copy")
    dialog.get_by_role("button", name="Try it").click()
    output = dialog.locator("[data-try-output]")
    output.filter(has_text="HTTP 200").wait_for()
    assert output.get_attribute("role") == "region" and output.get_attribute("aria-label") == "Try it response"
    axe.check("get started dialog with Try it's answer")
    axe.assert_clean()
