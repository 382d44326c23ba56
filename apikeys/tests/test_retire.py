"""Retiring an old secret that is still in its grace period."""

from datetime import timedelta

import pytest
from django.urls import reverse

from activity.models import Action, ActivityEntry
from apikeys.models import ApiSecret
from apikeys.services import key_renew
from kernel import crypto

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_grace(acme_secrets):
    key, old = acme_secrets["emporix"]
    key_renew(key=key, grace=timedelta(days=7))
    return key, ApiSecret.objects.get(digest=crypto.digest(old)), old


def _url(key, secret, code="acme"):
    return reverse("apikeys:retire", kwargs={"code": code, "key_id": key.public_id, "secret_id": secret.public_id})


def test_an_admin_retires_an_old_secret_now(client_for, alice, in_grace):
    key, secret, old = in_grace
    response = client_for(alice).post(_url(key, secret), follow=True)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Old secret, stops working " not in body
    # Said beside the key (the in-card notice every change from the list uses), not in a banner.
    assert response.redirect_chain[-1][0].endswith("#key-notice")
    card = body[body.index(f'id="key-{key.public_id}"') :]
    assert card.index('id="key-notice"') < card.index("</article>")
    assert "Old secret retired." in card[card.index('id="key-notice"') : card.index("</article>")]
    assert 'class="messages' not in body
    assert crypto.digest(old) not in {bytes(s.digest) for s in ApiSecret.objects.filter(key=key).live()}
    assert ActivityEntry.objects.filter(action=Action.SECRET_RETIRED, key=key, actor=alice).exists()
    assert old not in str(ActivityEntry.objects.get(action=Action.SECRET_RETIRED).details)


def test_the_confirmation_page_changes_nothing(client_for, alice, in_grace):
    key, secret, old = in_grace
    response = client_for(alice).get(_url(key, secret))
    assert response.status_code == 200 and old not in response.content.decode()
    secret.refresh_from_db()
    assert secret in ApiSecret.objects.live()


def test_the_current_secret_cannot_be_retired(client_for, alice, in_grace):
    key, _, _ = in_grace
    current = key.secrets.get(expires_at__isnull=True)
    assert client_for(alice).post(_url(key, current)).status_code == 404
    current.refresh_from_db()
    assert current.expires_at is None


# Roles and non-members: portal/tests/test_permissions.py.
def test_it_404s_for_another_tenants_key_under_my_tenant_code(client_for, charlie, globex, in_grace):
    key, secret, _ = in_grace
    assert client_for(charlie).post(_url(key, secret, code="globex")).status_code == 404
    secret.refresh_from_db()
    assert secret in ApiSecret.objects.live()
