"""The scope picker and the form errors in a real Chromium: search across services, select
all/none, the chosen scopes with remove buttons and what they unlock, a keyboard-only walk
from Name to Generate key counting Tab stops, and the error summary focused after a failed post."""

import pytest

from apikeys.models import ApiKey, KeyKind
from apikeys.services import key_create
from scopes.models import Scope
from scopes.routes import route_table

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def create_page(page_for, site, user):
    page = page_for(user)
    page.goto(f"{site.url}/tenants/acme/api-keys/new/")
    return page


def focused(page) -> str:
    """What has the focus: its accessible name or, failing that, its id or tag."""
    return page.evaluate(
        """() => {
          const el = document.activeElement;
          if (el.labels && el.labels.length) return el.labels[0].textContent.trim().replace(/\\s+/g, ' ');
          return (el.getAttribute('aria-label') || el.textContent || el.id || el.tagName).trim().replace(/\\s+/g, ' ');
        }"""
    )


def tabs_until(page, name: str, limit: int = 60) -> int:
    """Press Tab until the focused element's name starts with `name`; how many presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if focused(page).startswith(name):
            return presses
    raise AssertionError(f"{name!r} not reached in {limit} Tab presses; last: {focused(page)!r}")


def test_search_select_all_summary_and_remove(page_for, site, alice, acme):
    page = create_page(page_for, site, alice)
    count = page.locator("[data-scope-count]")
    chosen = page.locator("[data-scope-chosen] li")
    assert count.inner_text() == "0 scopes selected"
    assert not page.locator("#service-tax").evaluate("d => d.open")

    # The search shows and opens the services with a match, across the whole catalogue.
    page.get_by_label("Search scopes").fill("tax")
    assert page.locator("#service-tax").is_visible() and page.locator("#service-tax").evaluate("d => d.open")
    assert not page.locator("#service-brand").is_visible()
    page.get_by_role("button", name="Select all Tax Service scopes").click()
    assert count.inner_text() == "2 scopes selected"
    assert page.locator("#service-tax [data-service-count]").text_content() == "2/2 chosen"
    # In catalogue order, each with how many operations it opens, and a remove button.
    assert [" ".join(text.split()) for text in chosen.all_inner_texts()] == [
        "tax.tax_manage 3 operations Remove tax.tax_manage",
        "tax.tax_read 2 operations Remove tax.tax_read",
    ]

    # What they unlock: the union of their operations in the route table, grouped by service.
    table = route_table()
    expected = {
        f"{r.method} {r.path}" for name in ("tax.tax_read", "tax.tax_manage") for r in table.opened_by_scope(name)
    }
    page.get_by_text("Unlocks").click()
    assert page.locator("[data-radius-count]").inner_text() == str(len(expected))
    assert set(page.locator("[data-radius-list] code").all_inner_texts()) == expected
    assert page.locator("[data-radius-list] .operations-service").all_inner_texts() == [f"tax ({len(expected)})"]

    # A search on a scope name; clearing it brings every service back, closed as before unless
    # it holds a chosen scope.
    page.get_by_label("Search scopes").fill("brand_manage")
    assert not page.locator("#service-tax").is_visible()
    page.get_by_label("brand.brand_manage").check()
    assert count.inner_text() == "3 scopes selected"
    page.get_by_label("Search scopes").fill("")
    assert page.locator("#service-price").is_visible() and not page.locator("#service-price").evaluate("d => d.open")
    assert page.locator("#service-tax").evaluate("d => d.open")

    # Remove from the summary: the box is unticked and the focus moves to the next remove button.
    page.get_by_role("button", name="Remove tax.tax_read").click()
    assert not page.get_by_label("tax.tax_read").is_checked()
    assert count.inner_text() == "2 scopes selected"
    assert focused(page).startswith("Remove ")
    page.get_by_role("button", name="Select none of the Tax Service scopes").click()
    assert count.inner_text() == "1 scope selected"
    page.get_by_label("Name").fill("Brands only")
    page.get_by_role("button", name="Generate key").click()
    page.wait_for_load_state()
    key = ApiKey.objects.get(tenant=acme, kind=KeyKind.CUSTOM)
    assert list(key.scopes.values_list("name", flat=True)) == ["brand.brand_manage"]


def test_a_keyboard_walk_from_name_to_generate_takes_few_tab_stops(page_for, site, alice, acme):
    page = create_page(page_for, site, alice)
    page.get_by_label("Name").focus()
    page.keyboard.type("Keyboard key")

    # Nothing chosen: search, the service list (one stop), what they unlock, the access-token
    # format, the expiry (Chromium's date-time input is six stops: day, month, year, hours,
    # minutes, and its picker button), the optional "What it is for" fields (description, owner,
    # environment, labels), Generate key.
    assert tabs_until(page, "Generate key") <= 16

    # Keyboard only: search, open a service, tick a scope, then on to Generate key.
    page.get_by_label("Name").focus()
    presses = tabs_until(page, "Search scopes")
    page.keyboard.type("tax_read")
    presses += tabs_until(page, "Tax Service")  # the service list's one stop, opened by the search
    presses += tabs_until(page, "tax.tax_read")
    page.keyboard.press("Space")
    assert page.get_by_label("tax.tax_read").is_checked()
    presses += tabs_until(page, "Generate key")
    assert presses < 24
    with page.expect_navigation():
        page.keyboard.press("Enter")
    key = ApiKey.objects.get(tenant=acme, kind=KeyKind.CUSTOM)
    assert key.name == "Keyboard key"
    assert list(key.scopes.values_list("name", flat=True)) == ["tax.tax_read"]


def test_arrow_keys_move_between_services_inside_the_one_tab_stop(page_for, site, alice, acme):
    page = create_page(page_for, site, alice)
    page.get_by_label("Search scopes").focus()
    page.keyboard.press("Tab")
    first = focused(page)
    page.keyboard.press("ArrowDown")
    second = focused(page)
    assert first != second and page.evaluate("document.activeElement.tagName") == "SUMMARY"
    page.keyboard.press("Enter")  # opens that service
    assert page.evaluate("document.activeElement.parentElement.open")
    page.keyboard.press("End")
    assert page.evaluate("document.activeElement.parentElement.id") == page.locator(
        "[data-scope-service]"
    ).last.get_attribute("id")
    # Shift+Tab from the next stop comes back to the service last used.
    page.keyboard.press("Home")
    page.keyboard.press("Shift+Tab")
    assert focused(page).startswith("Search scopes")


def test_editing_shows_what_is_gained_and_lost_before_saving(page_for, site, alice, acme):
    key, _ = key_create(tenant=acme, kind=KeyKind.CUSTOM, name="Shop", scopes=Scope.objects.filter(name="tax.tax_read"))
    page = page_for(alice)
    page.goto(f"{site.url}/tenants/acme/api-keys/{key.public_id}/edit/")
    diff = page.locator("[data-diff-body]")
    assert diff.inner_text() == "The scopes are unchanged."
    page.get_by_label("Search scopes").fill("brand_manage")
    page.get_by_label("brand.brand_manage").check()
    page.get_by_role("button", name="Remove tax.tax_read").click()
    assert "Added: brand.brand_manage" in diff.inner_text()
    assert "Removed: tax.tax_read" in diff.inner_text()
    gained = [f"{r.method} {r.path}" for r in route_table().opened_by_scope("brand.brand_manage")]
    diff.get_by_text(f"Gains {len(gained)} operations").click()
    diff.get_by_text("Loses 2 operations").click()
    codes = diff.locator("code").all_inner_texts()
    assert set(gained) <= set(codes) and "GET /tax/{tenant}/taxes" in codes


def test_the_error_summary_is_focused_and_links_each_error_to_its_field(page_for, site, alice, acme):
    page = create_page(page_for, site, alice)
    with page.expect_navigation():
        page.get_by_role("button", name="Generate key").click()
    summary = page.locator("[data-error-summary]")
    # The summary takes the focus when the page loads (autofocus); a busy browser may take a moment.
    page.wait_for_function(
        "() => document.activeElement && document.activeElement.hasAttribute('data-error-summary')", timeout=5000
    )
    links = summary.get_by_role("link")
    assert links.all_inner_texts() == ["Name: This field is required.", "Scopes: Choose at least one scope."]
    assert page.get_by_label("Name").get_attribute("aria-invalid") == "true"
    assert "id_name_error" in page.get_by_label("Name").get_attribute("aria-describedby")

    # The scope error belongs to the picker group; the search box is never marked.
    search = page.get_by_label("Search scopes")
    assert search.get_attribute("aria-invalid") is None
    colour = search.evaluate("el => getComputedStyle(el).borderTopColor")
    assert colour != page.evaluate("getComputedStyle(document.querySelector('.error')).color")
    links.nth(1).click()
    assert page.url.endswith("#id_scopes")
    picker = page.locator("#id_scopes")
    assert "id_scopes_error" in picker.get_attribute("aria-describedby")
    assert page.locator("#id_scopes_error").inner_text() == "Choose at least one scope."
    links.nth(0).click()
    assert page.evaluate("document.activeElement.id") == "id_name"
