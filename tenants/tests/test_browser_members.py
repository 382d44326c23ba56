"""A person removes a member in a real Chromium: the Remove link opens a dialog that asks
first; Cancel keeps the member, the dialog's Remove removes them. And the invitation flow
from the Members page to a new member's first page."""

import re

import pytest
from django.core import mail

from accounts.models import User
from tenants.models import Membership

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_removing_a_member_asks_in_a_dialog(page_for, site, alice, bob, acme):
    page = page_for(alice)
    page.goto(f"{site.url}/tenants/acme/members/")
    remove = page.get_by_role("link", name="Remove bob@example.com")
    remove.click()
    dialog = page.locator("#remove-dialog")
    assert dialog.evaluate("d => d.open")
    assert dialog.get_by_role("heading").inner_text() == "Remove bob@example.com?"
    dialog.get_by_role("button", name="Cancel").click()
    assert not dialog.evaluate("d => d.open")
    assert remove.evaluate("a => document.activeElement === a")  # focus goes back
    assert Membership.objects.filter(tenant=acme, user=bob).exists()

    remove.click()
    dialog.get_by_role("button", name="Remove").click()
    page.wait_for_load_state()
    assert page.get_by_text("bob@example.com removed from acme.").is_visible()
    assert not Membership.objects.filter(tenant=acme, user=bob).exists()


def test_an_invited_person_chooses_a_password_and_lands_in_the_tenant(page_for, browser, site, alice, acme):
    page = page_for(alice)
    page.goto(f"{site.url}/tenants/acme/members/")
    page.get_by_label("E-mail", exact=True).fill("new@example.com")
    page.get_by_label("Role", exact=True).select_option("viewer")
    page.get_by_role("button", name="Send invitation").click()
    page.wait_for_load_state()
    assert page.get_by_text("Invitation sent to new@example.com.").is_visible()
    assert page.locator("#invitations-heading").is_visible()

    link = re.search(r"http://\S+/invitations/accept/\?token=\S+", mail.outbox[0].body).group(0)
    context = browser.new_context()
    invitee = context.new_page()
    invitee.goto(link.replace("http://testserver", site.url))
    invitee.get_by_label("Choose a password").fill("a-long-new-pass-2026")
    invitee.get_by_label("Password again").fill("a-long-new-pass-2026")
    invitee.get_by_role("button", name="Create account and join").click()
    invitee.wait_for_load_state()
    assert invitee.url == f"{site.url}/tenants/acme/api-keys/"
    assert invitee.get_by_text("Welcome to Acme Corp: you are Viewer.").is_visible()
    assert Membership.objects.get(tenant=acme, user=User.objects.get(email="new@example.com")).role == "viewer"
    context.close()
