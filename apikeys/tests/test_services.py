from datetime import timedelta

import pytest
from django.utils import timezone

from activity.audit import Audit
from activity.models import Action, ActivityEntry
from apikeys.auth import secret_mark_used
from apikeys.models import ApiKey, ApiSecret
from apikeys.services import (
    key_create,
    key_delete,
    key_renew,
    key_update,
    secret_plaintext,
    secret_retire,
)
from kernel import crypto
from scopes.models import Scope

pytestmark = pytest.mark.django_db


def _live_digests(key):
    return {bytes(s.digest) for s in ApiSecret.objects.filter(key=key).live()}


def test_renew_now_replaces_the_secret_and_keeps_the_client_id(acme_secrets, alice):
    key, old = acme_secrets["emporix"]
    renewed, secret, new = key_renew(key=key, audit=Audit(actor=alice))
    assert renewed.client_id == key.client_id and new != old
    assert _live_digests(key) == {crypto.digest(new)}
    assert secret_plaintext(secret) == new
    assert renewed.renewed_at is not None
    entry = ActivityEntry.objects.get(action=Action.KEY_RENEWED)
    assert entry.details["old_secret_stops"] == "now" and old not in str(entry.details)


def test_renew_with_grace_keeps_the_old_secret_working_until_it_expires(acme_secrets):
    key, old = acme_secrets["emporix"]
    _, _, new = key_renew(key=key, grace=timedelta(hours=1))
    assert _live_digests(key) == {crypto.digest(old), crypto.digest(new)}
    old_row = ApiSecret.objects.get(digest=crypto.digest(old))
    assert timedelta(minutes=59) < old_row.expires_at - timezone.now() <= timedelta(hours=1)
    later = timezone.now() + timedelta(hours=1, seconds=1)
    assert {bytes(s.digest) for s in ApiSecret.objects.filter(key=key).live(later)} == {crypto.digest(new)}


def test_renew_now_also_stops_secrets_still_in_a_grace_period(acme_secrets):
    key, _ = acme_secrets["emporix"]
    key_renew(key=key, grace=timedelta(days=7))
    _, _, newest = key_renew(key=key)
    assert _live_digests(key) == {crypto.digest(newest)}


def test_retiring_an_old_secret_stops_it_now(acme_secrets):
    key, old = acme_secrets["emporix"]
    _, _, new = key_renew(key=key, grace=timedelta(days=1))
    secret_retire(secret=ApiSecret.objects.get(digest=crypto.digest(old)))
    assert _live_digests(key) == {crypto.digest(new)}
    with pytest.raises(ValueError):
        secret_retire(secret=ApiSecret.objects.get(digest=crypto.digest(new)))


def test_update_records_what_changed(acme, alice):
    manage, read = Scope.objects.get(name="brand.brand_manage"), Scope.objects.get(name="tax.tax_read")
    key, _ = key_create(tenant=acme, kind="custom", name="Brands", scopes=[manage], audit=Audit(actor=alice))
    key_update(key=key, name="Brands and tax", scopes=[read], audit=Audit(actor=alice))
    key.refresh_from_db()
    assert key.name == "Brands and tax" and list(key.scopes.all()) == [read]
    details = ActivityEntry.objects.get(action=Action.KEY_CHANGED).details
    assert details == {
        "name": {"from": "Brands", "to": "Brands and tax"},
        "scopes_added": ["tax.tax_read"],
        "scopes_removed": ["brand.brand_manage"],
    }


def test_builtin_keys_cannot_be_deleted_or_edited(acme_secrets):
    key, _ = acme_secrets["storefront"]
    with pytest.raises(ValueError):
        key_delete(key=key)
    with pytest.raises(ValueError):
        key_update(key=key, name="x", scopes=list(Scope.objects.all()[:1]))
    assert ApiKey.objects.filter(pk=key.pk).exists()


def test_delete_removes_the_key_and_its_secrets_but_keeps_the_log(acme, alice):
    key, _ = key_create(
        tenant=acme, kind="custom", name="Temp", scopes=[Scope.objects.first()], audit=Audit(actor=alice)
    )
    key_delete(key=key, audit=Audit(actor=alice))
    assert not ApiKey.objects.filter(pk=key.pk).exists()
    assert not ApiSecret.objects.filter(key_id=key.pk).exists()
    entry = ActivityEntry.objects.get(action=Action.KEY_DELETED)
    assert entry.key is None and entry.key_name == "Temp"


def test_last_used_is_written_at_most_once_a_minute(acme_secrets, django_assert_num_queries):
    key, _ = acme_secrets["emporix"]
    secret = ApiSecret.objects.get(key=key)
    now = timezone.now()

    def mark(last_used_at, at):
        secret_mark_used(secret_id=secret.pk, key_id=key.pk, last_used_at=last_used_at, now=at)

    with django_assert_num_queries(2):
        mark(None, now)
    with django_assert_num_queries(0):
        mark(now, now + timedelta(seconds=30))
    with django_assert_num_queries(1):  # a worker that read before the write: the UPDATE re-checks
        mark(None, now + timedelta(seconds=30))
    mark(now, now + timedelta(seconds=61))
    key.refresh_from_db()
    assert key.last_used_at == now + timedelta(seconds=61)


def test_a_key_keeps_at_most_one_old_secret(acme_secrets):
    key, first = acme_secrets["emporix"]
    for _ in range(20):
        key_renew(key=key, grace=timedelta(days=7))
    live = ApiSecret.objects.live().filter(key=key)
    assert live.count() == 2  # the current one and the one it replaced
    assert live.filter(expires_at__isnull=True).count() == 1
    entry = ActivityEntry.objects.filter(action=Action.KEY_RENEWED).order_by("-id").first()
    assert entry.details["older_secret_retired"] == 1
    assert not ApiSecret.objects.live().filter(digest=crypto.digest(first)).exists()


def test_a_secret_is_current_in_grace_or_neither(acme_secrets):
    """ApiSecret.objects.current() and in_grace(): the two states of a secret that still works
    (live()), as renew, retire, the keys list and the API read them."""
    key, _ = acme_secrets["emporix"]
    first = key.secrets.current().get()
    key_renew(key=key, grace=timedelta(hours=1))
    second = key.secrets.current().get()
    assert list(key.secrets.in_grace()) == [first]
    assert set(key.secrets.live()) == {first, second}
    later = timezone.now() + timedelta(hours=2)
    assert not key.secrets.in_grace(later).exists()
    assert set(key.secrets.live(later)) == {second}
    key_renew(key=key, grace=timedelta(hours=1))  # the old one stops now; the second is in grace
    assert list(key.secrets.in_grace()) == [ApiSecret.objects.get(pk=second.pk)]
    assert first not in key.secrets.live()
