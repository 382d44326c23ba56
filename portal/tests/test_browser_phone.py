"""At 360 px (a small phone) no page of the portal scrolls sideways: the page is never wider
than the screen; wide tables scroll inside their own box instead."""

from datetime import timedelta

import pytest

from activity.audit import Audit
from activity.models import Action, ActivityEntry
from apikeys.models import KeyKind
from apikeys.services import key_create, key_renew
from scopes.models import Scope
from tenants.grants import person_powers
from tenants.models import Membership, Role
from tenants.services import invitation_send

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH = 360
# The innermost elements whose right edge is past the screen's, as "tag.class (right edge)".
CULPRITS = """width => [...document.querySelectorAll('body *')]
  .filter(el => el.getBoundingClientRect().right > width + 0.5)
  .filter(el => ![...el.children].some(child => child.getBoundingClientRect().right > width + 0.5))
  .slice(0, 5)
  .map(el => el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ').join('.') : '')
       + ' (' + Math.round(el.getBoundingClientRect().right) + ')')"""


@pytest.fixture
def busy_acme(acme_secrets, alice, bob, catalogue, django_user_model):
    """acme with what makes pages wide: long names and addresses, a custom key, an old secret
    in its grace period, a pending invitation, activity."""
    tenant = acme_secrets[KeyKind.EMPORIX][0].tenant
    long = django_user_model.objects.create_user(
        email="a.very.long.address.for.testing.layouts@subdomain.example-company.com", password="x" * 20
    )
    Membership.objects.create(user=long, tenant=tenant, role=Role.DEVELOPER)
    scopes = Scope.objects.filter(name__in=["tax.tax_read", "brand.brand_manage"])
    key_create(
        tenant=tenant, kind=KeyKind.CUSTOM, name="Storefront synchronisation for the EU warehouse", scopes=scopes
    )
    key_renew(key=acme_secrets[KeyKind.STOREFRONT][0], grace=timedelta(hours=24))
    invitation_send(
        tenant=tenant,
        email="someone.with.a.long.name@another-example-company.com",
        role=Role.VIEWER,
        accept_url="http://testserver/invitations/accept/",
        audit=Audit(actor=alice),
        grantor=person_powers(Role.ADMIN, reauthenticated=True),  # alice, an admin, sends it
    )
    assert ActivityEntry.objects.filter(tenant=tenant, action=Action.KEY_CREATED).exists()
    return tenant


def test_no_page_scrolls_sideways_at_360_px(browser, site, alice, busy_acme):
    emporix = busy_acme.apikeys.get(kind=KeyKind.EMPORIX)
    context = browser.new_context(viewport={"width": WIDTH, "height": 740})
    context.set_default_timeout(10_000)
    page = context.new_page()
    too_wide = []

    def measure(what: str) -> None:
        page.wait_for_load_state()
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > WIDTH:
            culprits = page.evaluate(CULPRITS, WIDTH)
            too_wide.append(f"{what} ({page.url}): {width} px; sticking out: {', '.join(culprits)}")

    page.goto(f"{site.url}/accounts/login/")
    measure("login")
    page.fill("input[name=username]", alice.email)
    page.fill("input[name=password]", "correct-horse-battery-staple")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    keys = "/tenants/acme/api-keys/"
    for what, path in [
        ("tenant list", "/tenants/"),
        ("keys page", keys),
        ("create key", f"{keys}new/"),
        ("get started", f"{keys}{emporix.public_id}/get-started/"),
        ("renew page", f"{keys}{emporix.public_id}/renew/"),
        ("key settings", f"{keys}{emporix.public_id}/settings/"),
        ("report a leaked secret", f"{keys}report-leak/"),
        ("activity", "/tenants/acme/activity/"),
        ("members", "/tenants/acme/members/"),
        ("My Account", "/accounts/"),
        ("password change", "/accounts/password/change/"),
        ("MFA: authenticator app", "/accounts/2fa/totp/activate/"),
        ("MFA: add a passkey", "/accounts/2fa/webauthn/add/"),
        ("404", "/no-such-page/"),
    ]:
        page.goto(site.url + path)
        measure(what)
    page.goto(f"{site.url}{keys}")
    page.evaluate("document.querySelectorAll('main details').forEach(d => { d.open = true; })")
    measure("keys page, everything expanded")
    page.goto(f"{site.url}{keys}new/")
    page.get_by_role("button", name="Generate").click()
    measure("create key with errors")
    page.goto(f"{site.url}/tenants/acme/members/")
    for menu in page.locator("header details.menu").all():
        menu.locator("summary").click()
        measure("a menu open")
        box = menu.locator(".menu-panel").bounding_box()
        if box["x"] < 0 or box["x"] + box["width"] > WIDTH:
            too_wide.append(f"a menu's panel is off the screen: x {box['x']:.0f} to {box['x'] + box['width']:.0f}")
        page.keyboard.press("Escape")
    context.close()
    assert not too_wide, "wider than the screen:\n" + "\n".join(too_wide)
