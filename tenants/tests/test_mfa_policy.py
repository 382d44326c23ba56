"""A tenant that requires MFA: members without a second factor are sent to set one up and see
nothing of the tenant; the Members page shows who has MFA; the policy form (admins, with MFA
themselves)."""

import pytest
from django.urls import reverse

from activity.models import Action, ActivityEntry
from apikeys.models import ApiKey
from conftest import give_totp, make_user
from tenants.models import Membership, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def strict_acme(acme):
    acme.require_mfa = True
    acme.save(update_fields=["require_mfa"])
    return acme


def _tenant_urls(acme) -> list[str]:
    key = ApiKey.objects.filter(tenant=acme).first()
    return [
        reverse("apikeys:list", kwargs={"code": "acme"}),
        reverse("apikeys:create", kwargs={"code": "acme"}),
        reverse("apikeys:get_started", kwargs={"code": "acme", "key_id": key.public_id}),
        reverse("apikeys:renew", kwargs={"code": "acme", "key_id": key.public_id}),
        reverse("tenants:members", kwargs={"code": "acme"}),
        reverse("activity:list", kwargs={"code": "acme"}),
        reverse("activity:csv", kwargs={"code": "acme"}),
    ]


def _nothing_of_acme(content: str, acme, user) -> None:
    """No key of acme (name, Client ID) and no other member is in the page."""
    for key in ApiKey.objects.filter(tenant=acme):
        assert key.client_id not in content and key.name not in content
    for membership in acme.memberships.exclude(user=user).select_related("user"):
        assert membership.user.email not in content


@pytest.mark.parametrize("user", ["alice", "dave", "bob"])
def test_a_member_without_mfa_is_sent_to_set_it_up_and_sees_nothing(client, request, strict_acme, user):
    client.force_login(request.getfixturevalue(user))
    for url in _tenant_urls(strict_acme):
        response = client.get(url)
        assert response.status_code == 302 and response.url == reverse("mfa_index"), url
        assert "no-store" in response["Cache-Control"]
    page = client.get(reverse("mfa_index"), follow=True)
    assert "Acme Corp requires two-factor authentication" in page.content.decode()
    _nothing_of_acme(page.content.decode(), strict_acme, request.getfixturevalue(user))


def test_a_fetch_gets_403_json_not_a_redirect(client, dave, strict_acme, reauthenticated):
    client.force_login(dave)
    reauthenticated(client)
    key = ApiKey.objects.filter(tenant=strict_acme).first()
    url = reverse("apikeys:secret", kwargs={"code": "acme", "key_id": key.public_id})
    response = client.post(url, headers={"accept": "application/json"})
    assert response.status_code == 403
    assert response.json()["error"] == "mfa_required" and "Acme Corp" in response.json()["message"]
    assert not ActivityEntry.objects.filter(action__startswith="secret.").exists()


def test_the_tenant_list_shows_no_keys_of_a_tenant_that_needs_mfa_first(client, dave, strict_acme):
    client.force_login(dave)
    content = client.get(reverse("tenants:list")).content.decode()
    assert "Requires two-factor authentication" in content
    _nothing_of_acme(content, strict_acme, dave)


def test_a_member_with_mfa_gets_in(client, dave, strict_acme):
    give_totp(dave)
    client.force_login(dave)
    for url in _tenant_urls(strict_acme)[::2][:3]:  # what a developer may open
        assert client.get(url).status_code == 200, url
    content = client.get(reverse("apikeys:list", kwargs={"code": "acme"})).content.decode()
    assert "Emporix API" in content


def test_another_tenant_without_the_policy_stays_open(client, charlie, globex, strict_acme):
    client.force_login(charlie)
    assert client.get(reverse("apikeys:list", kwargs={"code": "globex"})).status_code == 200


def test_the_members_page_shows_who_has_mfa_in_one_query(
    client, alice, acme, django_user_model, django_assert_max_num_queries
):
    give_totp(alice)
    for n in range(30):
        user = make_user(django_user_model, f"member{n}@example.com")
        Membership.objects.create(user=user, tenant=acme, role=Role.VIEWER)
        if n % 2:
            give_totp(user)
    client.force_login(alice)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("tenants:members", kwargs={"code": "acme"}))
    members = {m.user.email: m.has_mfa for m in response.context["members"]}
    assert members["alice@example.com"] and not members["bob@example.com"]
    assert members["member1@example.com"] and not members["member0@example.com"]
    assert response.content.decode().count('<td class="mfa-status"><span class="badge">On</span>') == 16


def test_an_admin_without_mfa_cannot_turn_the_policy_on(client_for, alice, acme):
    client = client_for(alice)
    response = client.post(reverse("tenants:policy", kwargs={"code": "acme"}), {"require_mfa": "on"})
    assert response.status_code == 400
    assert "Set up two-factor authentication for your own account first" in response.content.decode()
    acme.refresh_from_db()
    assert not acme.require_mfa
    assert not ActivityEntry.objects.filter(action=Action.TENANT_POLICY_CHANGED).exists()


def test_an_admin_with_mfa_turns_it_on_and_off_and_it_is_logged(client_for, alice, acme):
    give_totp(alice)
    client = client_for(alice)
    url = reverse("tenants:policy", kwargs={"code": "acme"})
    response = client.post(url, {"require_mfa": "on"})
    assert response.status_code == 302 and response.url == reverse("tenants:members", kwargs={"code": "acme"})
    acme.refresh_from_db()
    assert acme.require_mfa
    # She keeps access; her developer without MFA does not.
    assert client.get(reverse("apikeys:list", kwargs={"code": "acme"})).status_code == 200
    assert client.post(url, {}).status_code == 302
    acme.refresh_from_db()
    assert not acme.require_mfa
    entries = ActivityEntry.objects.filter(tenant=acme, action=Action.TENANT_POLICY_CHANGED).order_by("pk")
    assert [(e.actor, e.details) for e in entries] == [(alice, {"require_mfa": True}), (alice, {"require_mfa": False})]
    assert "Tenant policy changed" in client.get(reverse("activity:list", kwargs={"code": "acme"})).content.decode()


def test_only_admins_see_the_policy_form(client_for, alice, dave, acme):
    url = reverse("tenants:members", kwargs={"code": "acme"})
    assert 'name="require_mfa"' in client_for(alice).get(url).content.decode()
    assert 'name="require_mfa"' not in client_for(dave).get(url).content.decode()
