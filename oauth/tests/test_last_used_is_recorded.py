from datetime import timedelta
from unittest import mock

from django.utils import timezone

from apikeys.models import ApiKey, ApiSecret
from apikeys.services import key_renew

GRANT = {"grant_type": "client_credentials"}


def test_each_authentication_marks_the_secret_used_at_most_once_a_minute(post_token, emporix):
    key, secret = emporix
    form = {**GRANT, "client_id": key.client_id, "client_secret": secret}
    start = timezone.now()
    with mock.patch("django.utils.timezone.now", return_value=start):
        post_token(form)
    assert ApiSecret.objects.get(key=key).last_used_at == start
    assert ApiKey.objects.get(pk=key.pk).last_used_at == start
    with mock.patch("django.utils.timezone.now", return_value=start + timedelta(seconds=30)):
        post_token(form)
    assert ApiSecret.objects.get(key=key).last_used_at == start
    later = start + timedelta(seconds=61)
    with mock.patch("django.utils.timezone.now", return_value=later):
        post_token(form)
    assert ApiSecret.objects.get(key=key).last_used_at == later


def test_during_a_grace_period_each_secret_has_its_own_last_used(post_token, emporix):
    key, old = emporix
    _, new_secret, new = key_renew(key=key, grace=timedelta(hours=1))
    post_token({**GRANT, "client_id": key.client_id, "client_secret": old})
    old_row = key.secrets.exclude(pk=new_secret.pk).get()
    assert old_row.last_used_at is not None
    assert ApiSecret.objects.get(pk=new_secret.pk).last_used_at is None
    post_token({**GRANT, "client_id": key.client_id, "client_secret": new})
    assert ApiSecret.objects.get(pk=new_secret.pk).last_used_at is not None


def test_a_failed_authentication_marks_nothing(post_token, emporix):
    key, secret = emporix
    post_token({**GRANT, "client_id": key.client_id, "client_secret": secret + "x"})
    assert ApiSecret.objects.get(key=key).last_used_at is None
