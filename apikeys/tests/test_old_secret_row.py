"""During a grace period the row shows the old secret: when it stops, when it and the new
secret were last used, and (for admins and developers) reveal and copy of the old secret."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apikeys.models import ApiSecret
from apikeys.services import key_renew

pytestmark = pytest.mark.django_db
LIST = reverse("apikeys:list", kwargs={"code": "acme"})


@pytest.fixture
def renewed(acme_secrets):
    key, old_plaintext = acme_secrets["emporix"]
    _, new, _ = key_renew(key=key, grace=timedelta(hours=24))
    old = ApiSecret.objects.get(key=key, expires_at__isnull=False)
    return key, old, new, old_plaintext


def test_developers_can_reveal_the_old_secret_and_viewers_cannot(client_for, dave, bob, renewed):
    _key, old, _, _ = renewed
    marker = f'name="secret" value="{old.public_id}"'
    assert client_for(dave).get(LIST).content.decode().count(marker) == 2  # reveal and copy
    assert marker not in client_for(bob).get(LIST).content.decode()


def test_revealing_the_old_secret_without_javascript_shows_it_in_its_own_row(client_for, dave, renewed):
    key, old, _, old_plaintext = renewed
    url = reverse("apikeys:secret", kwargs={"code": "acme", "key_id": key.public_id})
    body = client_for(dave).post(url, {"purpose": "reveal", "secret": str(old.public_id)}).content.decode()
    assert body.count(old_plaintext) == 1
    old_row = body[body.index("old-secret-label") :]
    assert old_plaintext in old_row


def test_last_use_is_shown_for_the_old_and_the_new_secret(client_for, alice, renewed):
    _, old, _new, _ = renewed
    used = timezone.now() - timedelta(minutes=5)
    ApiSecret.objects.filter(pk=old.pk).update(last_used_at=used)
    body = client_for(alice).get(LIST).content.decode()
    assert f'Last used: <time datetime="{timezone.localtime(used).isoformat()}" title=' in body
    assert "New secret last used: never" in body
