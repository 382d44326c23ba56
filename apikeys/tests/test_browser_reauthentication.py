"""With JavaScript, revealing a secret without a recent authentication sends the person to the
re-authentication page and back to the page they were on, where the reveal then works."""

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore

from activity.models import Action, ActivityEntry
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
