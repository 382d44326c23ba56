"""A re-authentication is recorded in the tenant whose page the user returns to, and only
there; never with what was typed."""

import pytest
from django.urls import reverse

from activity.models import Action, ActivityEntry
from conftest import PASSWORD
from tenants.models import Membership, Role

pytestmark = pytest.mark.django_db


def _reauthenticate(client, next_url: str):
    page = reverse("account_reauthenticate")
    return client.post(f"{page}?next={next_url}", {"password": PASSWORD, "next": next_url})


def test_it_is_recorded_in_the_tenant_returned_to_only(client, alice, acme, globex):
    Membership.objects.create(user=alice, tenant=globex, role=Role.VIEWER)
    client.force_login(alice)
    back = reverse("apikeys:list", kwargs={"code": "acme"}) + "#key-x"
    response = _reauthenticate(client, back)
    assert response.status_code == 302 and response.url == back
    entry = ActivityEntry.objects.get(action=Action.REAUTHENTICATED)
    assert entry.tenant == acme and entry.actor == alice and entry.details == {"method": "password"}
    assert PASSWORD not in str(entry.details)
    assert not ActivityEntry.objects.filter(tenant=globex, action=Action.REAUTHENTICATED).exists()
    page = client.get(reverse("activity:list", kwargs={"code": "acme"})).content.decode()
    assert "Re-authenticated" in page


@pytest.mark.parametrize("next_url", ["/accounts/", "/tenants/globex/api-keys/", "https://evil.example/tenants/acme/"])
def test_it_is_not_recorded_elsewhere(client, alice, acme, globex, next_url):
    client.force_login(alice)
    _reauthenticate(client, next_url)
    assert not ActivityEntry.objects.filter(action=Action.REAUTHENTICATED).exists()
