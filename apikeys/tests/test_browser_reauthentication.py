"""With JavaScript, revealing a secret without a recent authentication sends the person to the
re-authentication page and back to the page they were on, where the reveal then works; a form
submitted after the window keeps what was typed (static/js/reauth-keep.js), except a secret."""

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore

from activity.models import Action, ActivityEntry
from apikeys.models import ApiKey, ApiSecret, KeyKind
from conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _age_the_login(page) -> None:
    """Make the page's login older than the re-authentication window, as if it idled."""
    (cookie,) = [c for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME]
    session = SessionStore(session_key=cookie["value"])
    records = session["account_authentication_methods"]
    for record in records:
        record["at"] -= settings.ACCOUNT_REAUTHENTICATION_TIMEOUT + 1
    session["account_authentication_methods"] = records
    session.save()


def test_a_reveal_after_the_window_goes_through_the_password_and_back(page_for, site, dave, acme_secrets):
    key, plaintext = acme_secrets["emporix"]
    page = page_for(dave)
    page.goto(f"{site.url}/tenants/acme/api-keys/#key-{key.public_id}")
    page.wait_for_load_state()
    _age_the_login(page)

    row = page.locator(f"#key-{key.public_id}")
    row.get_by_role("button", name="Show secret of Emporix API").click()
    page.wait_for_url("**/accounts/reauthenticate/**")
    assert plaintext not in page.content()
    assert not ActivityEntry.objects.filter(action=Action.SECRET_REVEALED).exists()

    page.fill("input[name=password]", PASSWORD)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(f"{site.url}/tenants/acme/api-keys/#key-{key.public_id}")
    row = page.locator(f"#key-{key.public_id}")
    row.get_by_role("button", name="Show secret of Emporix API").click()
    row.locator("[data-secret-value]").filter(has_text="akps_").wait_for()
    assert row.locator("[data-secret-value]").inner_text() == plaintext
    entry = ActivityEntry.objects.get(action=Action.REAUTHENTICATED)
    assert entry.tenant.code == "acme" and entry.details == {"method": "password"}


def _stored(page) -> str:
    """Everything the page's origin keeps in sessionStorage, as one JSON text."""
    return page.evaluate("JSON.stringify(Object.assign({}, window.sessionStorage))")


def _reauthenticate(page) -> None:
    page.wait_for_url("**/accounts/reauthenticate/**")
    page.fill("input[name=password]", PASSWORD)
    page.locator("input[name=password]").press("Enter")


def test_a_key_form_submitted_after_the_window_keeps_what_was_typed(page_for, site, alice, acme):
    form_url = f"{site.url}/tenants/acme/api-keys/new/"
    page = page_for(alice)
    page.clock.install()  # the page's own clock, moved on with the session's below
    page.goto(form_url)
    page.get_by_label("Name").fill("Storefront sync")
    page.get_by_label("Search scopes").fill("tax")
    page.get_by_role("button", name="Select all Tax Service scopes").click()
    page.get_by_label("Search scopes").fill("brand_manage")
    page.get_by_label("brand.brand_manage").check()
    count = page.locator("[data-scope-count]")
    assert count.inner_text() == "3 scopes selected"
    # The form stayed open past the window: for the server and for the page.
    _age_the_login(page)
    page.clock.fast_forward((settings.ACCOUNT_REAUTHENTICATION_TIMEOUT + 1) * 1000)

    page.get_by_role("button", name="Generate key").click()
    page.wait_for_url("**/accounts/reauthenticate/**")
    assert not ApiKey.objects.filter(tenant=acme, kind=KeyKind.CUSTOM).exists()
    kept = _stored(page)
    assert "Storefront sync" in kept and "brand.brand_manage" in kept
    assert "csrfmiddlewaretoken" not in kept

    _reauthenticate(page)
    page.wait_for_url(form_url)
    page.locator("[data-reauth-kept]").filter(has_text="Your changes were kept").wait_for()
    assert page.get_by_label("Name").input_value() == "Storefront sync"
    assert count.inner_text() == "3 scopes selected"  # the picker redrew its summary
    chosen = page.locator("[data-scope-chosen] code").all_inner_texts()
    assert chosen == ["brand.brand_manage", "tax.tax_manage", "tax.tax_read"]
    assert page.locator("[data-radius-count]").inner_text() != "0"
    assert _stored(page) == "{}"  # used once

    page.get_by_role("button", name="Generate key").click()
    page.wait_for_url("**/api-keys/?created=**")
    key = ApiKey.objects.get(tenant=acme, kind=KeyKind.CUSTOM)
    assert key.name == "Storefront sync"
    assert sorted(key.scopes.values_list("name", flat=True)) == ["brand.brand_manage", "tax.tax_manage", "tax.tax_read"]
    entry = ActivityEntry.objects.get(action=Action.REAUTHENTICATED)
    assert entry.tenant.code == "acme" and entry.details == {"method": "password"}


def test_the_leak_report_asks_first_and_never_keeps_the_secret(page_for, site, alice, acme_secrets):
    key, plaintext = acme_secrets["emporix"]
    form_url = f"{site.url}/tenants/acme/api-keys/report-leak/"
    page = page_for(alice)
    _age_the_login(page)

    # The form itself asks for a recent authentication: before anything is pasted.
    page.goto(form_url)
    _reauthenticate(page)
    page.wait_for_url(form_url)

    # Left open past the window: the secret goes nowhere but the server, which asks again.
    _age_the_login(page)
    page.get_by_label("Leaked secret").fill(plaintext)
    page.get_by_label("Where it was found").fill("https://paste.example.com/abc")
    page.get_by_role("button", name="Stop this secret").click()
    page.wait_for_url("**/accounts/reauthenticate/**")
    assert _stored(page) == "{}"
    assert ApiSecret.objects.filter(key=key).count() == 1  # nothing stopped

    _reauthenticate(page)
    page.wait_for_url(form_url)
    assert page.get_by_label("Leaked secret").input_value() == ""
    assert plaintext not in _stored(page) and plaintext not in page.content()


def test_a_form_answered_with_errors_comes_back_to_its_own_page(page_for, site, alice, acme):
    """The add-endpoint form with its errors is the answer to a POST (/webhooks/new/, no GET):
    kept, it comes back to the Webhooks page (its data-reauth-keep), not to the POST's URL."""
    list_url = f"{site.url}/tenants/acme/webhooks/"
    page = page_for(alice)
    page.clock.install()
    page.goto(list_url)
    page.get_by_role("button", name="Add endpoint").click()  # no URL: the form with its error
    page.wait_for_url("**/webhooks/new/")
    page.get_by_label("Endpoint URL").fill("https://hooks.example.com/keys")
    page.get_by_label("Description").fill("Key events for the ops team")
    _age_the_login(page)
    page.clock.fast_forward((settings.ACCOUNT_REAUTHENTICATION_TIMEOUT + 1) * 1000)

    page.get_by_role("button", name="Add endpoint").click()
    _reauthenticate(page)
    page.wait_for_url(list_url)
    page.locator("[data-reauth-kept]").wait_for()
    assert page.get_by_label("Endpoint URL").input_value() == "https://hooks.example.com/keys"
    assert page.get_by_label("Description").input_value() == "Key events for the ops team"
    assert _stored(page) == "{}"
