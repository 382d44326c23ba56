"""Renewing a key: a confirmation (GET), then the renew (POST) showing the new secret once."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from activity.models import Action, ActivityEntry
from apikeys.models import ApiSecret
from kernel import crypto

pytestmark = pytest.mark.django_db


def _url(key, code="acme"):
    return reverse("apikeys:renew", kwargs={"code": code, "key_id": key.public_id})


def _live_digests(key):
    return {bytes(s.digest) for s in ApiSecret.objects.filter(key=key).live()}


def test_the_confirmation_offers_when_the_old_secret_stops_with_a_day_of_grace_as_default(
    client_for, alice, acme_secrets
):
    key, plaintext = acme_secrets["emporix"]
    response = client_for(alice).get(_url(key))
    body = response.content.decode()
    assert response.status_code == 200 and plaintext not in body
    assert 'value="24h" checked' in body and body.count(" checked") == 1
    for value in ("now", "1h", "7d"):
        assert f'value="{value}">' in body
    # "Now" has its own danger button, the only one that confirms it.
    assert '<button type="submit" class="button danger renew-now" name="confirm" value="now">' in body
    assert "every access token issued by this key stops working too" in body
    key.refresh_from_db()
    assert key.renewed_at is None  # GET changes nothing


def test_renewing_shows_the_new_secret_once_with_no_store(client_for, alice, acme_secrets):
    key, old = acme_secrets["emporix"]
    client = client_for(alice)
    posted = client.post(_url(key), {"grace": "now", "confirm": "now"})
    assert posted.status_code == 302  # post/redirect/get: a reload cannot renew again
    assert posted.url == reverse("apikeys:list", kwargs={"code": "acme"}) + "#key-notice"
    assert "akps_" not in posted.url
    response = client.get(posted.url)
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    body = response.content.decode()
    assert "Key renewed" in body and old not in body
    current = key.secrets.get(expires_at__isnull=True)
    assert _live_digests(key) == {bytes(current.digest)}
    new = next(word for word in body.split(">") if word.startswith("akps_")).split("<")[0]
    assert crypto.digest(new) == bytes(current.digest) and body.count(new) == 1
    key.refresh_from_db()
    assert key.renewed_at is not None
    # Not in the session nor in the next page.
    following = client.get(reverse("apikeys:list", kwargs={"code": "acme"})).content.decode()
    assert new not in following and "Key renewed" not in following
    assert new not in str(dict(client.session))


def test_renewing_with_a_grace_keeps_the_old_secret_working_and_shows_it(client_for, alice, acme_secrets):
    key, old = acme_secrets["storefront"]
    response = client_for(alice).post(_url(key), {"grace": "24h"}, follow=True)
    body = response.content.decode()
    assert crypto.digest(old) in _live_digests(key) and len(_live_digests(key)) == 2
    old_row = ApiSecret.objects.get(digest=crypto.digest(old))
    assert timedelta(hours=23, minutes=59) < old_row.expires_at - timezone.now() <= timedelta(hours=24)
    assert "Old secret, stops working " in body and "Retire now" in body and old not in body


def test_an_unknown_grace_rerenders_the_form_with_400(client_for, alice, acme_secrets):
    key, _ = acme_secrets["emporix"]
    response = client_for(alice).post(_url(key), {"grace": "forever"})
    assert response.status_code == 400
    key.refresh_from_db()
    assert key.renewed_at is None


def test_renewing_records_it_with_no_secret(client_for, alice, acme_secrets):
    key, old = acme_secrets["emporix"]
    body = client_for(alice).post(_url(key), {"grace": "1h"}, follow=True).content.decode()
    entry = ActivityEntry.objects.get(action=Action.KEY_RENEWED)
    assert entry.actor == alice and entry.key == key
    assert old not in str(entry.details) and "akps_" not in str(entry.details)
    assert "akps_" in body


# Roles and non-members: portal/tests/test_permissions.py.
def test_it_404s_for_another_tenants_key_under_my_tenant_code(client_for, charlie, globex, acme_secrets):
    key, _ = acme_secrets["emporix"]
    assert client_for(charlie).post(_url(key, code="globex"), {"grace": "now"}).status_code == 404
    key.refresh_from_db()
    assert key.renewed_at is None


def test_the_new_secret_is_shown_on_one_page_after_the_renew(client_for, alice, acme_secrets):
    key, _ = acme_secrets["emporix"]
    admin = client_for(alice)
    admin.post(_url(key), {"grace": "now", "confirm": "now"})
    # The session holds only which secret to show, never the secret.
    session_values = str(dict(admin.session))
    assert "akps_" not in session_values
    first = admin.get(reverse("apikeys:list", kwargs={"code": "acme"})).content.decode()
    second = admin.get(reverse("apikeys:list", kwargs={"code": "acme"})).content.decode()
    assert "akps_" in first and "akps_" not in second


@pytest.mark.parametrize("data", [{"grace": "now"}, {}, {"grace": "now", "confirm": "yes"}])
def test_now_without_its_danger_button_asks_again_and_changes_nothing(client_for, alice, acme_secrets, data):
    key, old = acme_secrets["emporix"]
    response = client_for(alice).post(_url(key), data)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Stop the old secret now?" in body and 'value="now" checked' in body
    assert _live_digests(key) == {crypto.digest(old)}
    key.refresh_from_db()
    assert key.renewed_at is None


def test_the_wording_says_when_the_new_secret_can_be_seen_again(client_for, alice, acme_secrets):
    key, _ = acme_secrets["emporix"]
    body = client_for(alice).get(_url(key)).content.decode()
    assert "shown once" not in body
    assert "reveal or copy it again" in body


def test_after_a_renew_the_message_and_the_copy_button_are_next_to_the_key(client_for, alice, acme_secrets):
    key, _ = acme_secrets["storefront"]
    client = client_for(alice)
    client.post(_url(key), {"grace": "1h"})
    body = client.get(reverse("apikeys:list", kwargs={"code": "acme"})).content.decode()
    card = body[body.index(f'id="key-{key.public_id}"') :]
    card = card[: card.index("</article>")]
    notice = card[card.index('<div class="key-notice" id="key-notice" role="status" tabindex="-1">') :]
    assert "Key renewed." in notice and "Copy the new secret now" in notice
    copy = reverse("apikeys:secret", kwargs={"code": "acme", "key_id": key.public_id})
    assert f'<form method="post" action="{copy}" class="inline-form" data-copy-secret>' in notice
    assert "Copy the new secret</button>" in notice
    assert body.count("Key renewed.") == 1  # not also at the top of the page
