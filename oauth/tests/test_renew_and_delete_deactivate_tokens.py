from datetime import timedelta
from unittest import mock

from django.utils import timezone

from apikeys.services import key_delete, key_renew, secret_retire
from oauth.models import AccessToken
from oauth.services import tokens_purge

GRANT = {"grant_type": "client_credentials"}


def authenticate(post_token, key, secret):
    return post_token({**GRANT, "client_id": key.client_id, "client_secret": secret}).status_code


def test_renew_now_stops_the_old_secret_and_its_tokens_at_once(issue, introspect, post_token, emporix, custom):
    key, old = emporix
    token = issue(key, old)
    _, _, new = key_renew(key=key, grace=None)
    assert authenticate(post_token, key, old) == 401
    assert authenticate(post_token, key, new) == 200
    reader, reader_secret = custom
    assert introspect(reader, reader_secret, token) == {"active": False}


def test_with_grace_the_old_secret_works_until_its_expiry_and_not_a_second_longer(
    issue, introspect, post_token, emporix, custom
):
    key, old = emporix
    start = timezone.now()
    with mock.patch("django.utils.timezone.now", return_value=start):
        key_renew(key=key, grace=timedelta(hours=1))
    token = issue(key, old)
    reader, reader_secret = custom

    just_before = start + timedelta(hours=1) - timedelta(seconds=1)
    with mock.patch("django.utils.timezone.now", return_value=just_before):
        assert authenticate(post_token, key, old) == 200
        assert introspect(reader, reader_secret, token)["active"] is True

    at_expiry = start + timedelta(hours=1)
    with mock.patch("django.utils.timezone.now", return_value=at_expiry):
        assert authenticate(post_token, key, old) == 401
        assert introspect(reader, reader_secret, token) == {"active": False}


def test_retiring_a_grace_secret_deactivates_its_tokens(issue, introspect, emporix, custom):
    key, old = emporix
    _, _, new = key_renew(key=key, grace=timedelta(hours=1))
    old_token, new_token = issue(key, old), issue(key, new)
    secret_retire(secret=key.secrets.exclude(expires_at__isnull=True).get())
    reader, reader_secret = custom
    assert introspect(reader, reader_secret, old_token) == {"active": False}
    assert introspect(reader, reader_secret, new_token)["active"] is True


def test_deleting_a_key_deactivates_its_tokens(issue, introspect, post_token, custom, emporix):
    key, secret = custom
    token = issue(key, secret)
    key_delete(key=key)
    reader, reader_secret = emporix
    assert introspect(reader, reader_secret, token) == {"active": False}
    assert authenticate(post_token, key, secret) == 401
    # The row stays, inert, until it expires (no index finds tokens by key:
    # docs/token-storage.md); then the purge takes it.
    assert AccessToken.objects.filter(key_id=key.pk).count() == 1
    tokens_purge(now=timezone.now() + timedelta(days=1))
    assert not AccessToken.objects.filter(key_id=key.pk).exists()
