"""Key metadata, bulk actions and the inventory export (issue 20) in a real Chromium, at a
laptop's and a phone's width: an admin describes a key, labels it and gives it an owner; selects
keys in the table ("N selected"), disables them with one confirmation; does the same without
JavaScript; downloads the export of what the list shows. axe finds nothing on each page and
state, and no page scrolls sideways."""

import csv
import io

import pytest
from playwright.sync_api import expect

from apikeys.models import ApiKey, KeyKind
from apikeys.services import KeyMetadata, key_create
from portal.tests.test_accessibility import _axe, describe
from scopes.models import Scope

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDTHS = [1280, 390]


@pytest.fixture
def keys(acme, catalogue):
    scopes = Scope.objects.filter(name__in=["tax.tax_read", "tax.tax_manage"])
    made = []
    for n in range(8):
        metadata = KeyMetadata(environment="staging", labels=("batch",)) if n < 6 else KeyMetadata()
        key, _ = key_create(tenant=acme, kind=KeyKind.CUSTOM, name=f"Batch {n}", scopes=scopes, metadata=metadata)
        made.append(key)
    return made


@pytest.fixture
def page_as(page_for):
    """page_as(user, width) -> a logged-in page (through the login form) that axe can be injected
    into (bypass_csp), as portal/tests/test_accessibility.py does."""

    def open_page(user, width, *, javascript=True):
        return page_for(user, width=width, height=900, javascript=javascript, bypass_csp=True)

    return open_page


def _no_sideways_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _axe_clean(page, state):
    assert _no_sideways_scroll(page), state
    report = describe(state, _axe(page))
    assert not report, "\n".join(report)


@pytest.mark.parametrize("width", WIDTHS)
def test_an_admin_describes_labels_and_gives_a_key_an_owner(page_as, site, alice, dave, keys, width):
    page = page_as(alice, width)
    key = keys[7]
    page.goto(f"{site.url}/tenants/acme/api-keys/{key.public_id}/settings/")
    card = page.locator("section", has=page.get_by_role("heading", name="What it is for"))
    _axe_clean(page, f"{width}px settings with metadata")
    card.get_by_label("Labels").fill("Not valid!")
    card.get_by_role("button", name="Save description, owner and labels").click()
    page.get_by_text("is not a label").first.wait_for()
    _axe_clean(page, f"{width}px metadata error")
    card = page.locator("section", has=page.get_by_role("heading", name="What it is for"))
    card.get_by_label("Description").fill("Nightly ERP order sync")
    card.get_by_label("Owner").select_option(label="dave@example.com")
    card.get_by_label("Environment").select_option(label="Production")
    card.get_by_label("Labels").fill("erp, nightly")
    card.get_by_role("button", name="Save description, owner and labels").click()
    page.wait_for_url("**/api-keys/#key-notice")  # said in the key's card, as every settings change
    expect(page.locator("#key-notice")).to_contain_text(f"What {key.name} is for saved.")
    key.refresh_from_db()
    assert (key.description, key.owner, key.environment, key.label_list) == (
        "Nightly ERP order sync",
        dave,
        "production",
        ["erp", "nightly"],
    )
    # Found by its description, shown with its labels and owner.
    page.get_by_label("Search name or Client ID").fill("order sync")
    page.keyboard.press("Enter")
    page.wait_for_url("**/api-keys/?q=order+sync**")
    row = page.locator(f"#key-{key.public_id}")
    row.get_by_text("Production").wait_for()
    assert row.get_by_text("nightly", exact=True).is_visible() and row.get_by_text("dave@example.com").is_visible()
    _axe_clean(page, f"{width}px list with metadata")

    page.goto(f"{site.url}/tenants/acme/api-keys/new/")
    page.get_by_role("group", name="What it is for").get_by_label("Description").wait_for()
    _axe_clean(page, f"{width}px create form with metadata")


@pytest.mark.parametrize("width", WIDTHS)
def test_an_admin_selects_keys_in_the_table_and_disables_them_at_once(page_as, site, alice, keys, width):
    page = page_as(alice, width)
    page.goto(f"{site.url}/tenants/acme/api-keys/?view=table")
    bar = page.locator("#bulk-form")
    assert bar.get_by_text("0 selected").is_visible()
    page.get_by_label("Select Batch 1").check()
    page.get_by_label("Select Batch 2").check()
    bar.get_by_text("2 selected").wait_for()
    select_all = page.get_by_label("Select all keys on this page")
    select_all.check()
    bar.get_by_text("8 selected").wait_for()
    page.get_by_label("Select Batch 0").uncheck()
    bar.get_by_text("7 selected").wait_for()
    assert select_all.evaluate("box => box.indeterminate")
    _axe_clean(page, f"{width}px keys table with a selection")
    bar.get_by_label("Action").select_option("disable")
    bar.get_by_role("button", name="Continue…").click()
    page.get_by_role("heading", name="Disable 7 keys?").wait_for()
    _axe_clean(page, f"{width}px bulk confirmation")
    assert ApiKey.objects.filter(disabled_at__isnull=False).count() == 0
    page.get_by_role("button", name="Disable 7 keys").click()
    page.get_by_text("7 keys disabled.").wait_for()
    assert set(ApiKey.objects.filter(disabled_at__isnull=False).values_list("name", flat=True)) == {
        f"Batch {n}" for n in range(1, 8)
    }


def test_bulk_actions_work_without_javascript(page_as, site, alice, keys):
    page = page_as(alice, 390, javascript=False)
    page.goto(f"{site.url}/tenants/acme/api-keys/?view=table&label=batch")
    assert not page.get_by_label("Select all keys on this page").is_visible()  # needs a script
    page.get_by_label("All 6 on this page").check()
    page.locator("#bulk-form").get_by_label("Action").select_option("delete")
    page.get_by_role("button", name="Continue…").click()
    page.get_by_role("heading", name="Delete 6 keys?").wait_for()
    page.get_by_role("button", name="Delete 6 keys").click()
    page.get_by_text("6 keys deleted.").wait_for()
    assert set(ApiKey.objects.filter(kind=KeyKind.CUSTOM).values_list("name", flat=True)) == {"Batch 6", "Batch 7"}


@pytest.mark.parametrize("width", WIDTHS)
def test_the_export_link_downloads_what_the_list_shows(page_as, site, bob, keys, width):
    page = page_as(bob, width)  # a viewer: the inventory holds no secret
    page.goto(f"{site.url}/tenants/acme/api-keys/?environment=staging")
    link = page.get_by_role("link", name="Export these keys (CSV)")
    assert link.is_visible()
    _axe_clean(page, f"{width}px list with the export link")
    with page.expect_download() as download:
        link.click()
    path = download.value.path()
    with open(path, encoding="utf-8") as file:
        rows = list(csv.DictReader(io.StringIO(file.read())))
    assert sorted(row["name"] for row in rows) == [f"Batch {n}" for n in range(6)]
    assert {row["environment"] for row in rows} == {"staging"} and {row["labels"] for row in rows} == {"batch"}
