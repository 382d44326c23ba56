"""Key hygiene at the token service: a disabled key, or a custom key past its expiry date,
authenticates nowhere (the same invalid_client as a wrong secret), its tokens are inactive,
its secrets are kept; enabling it again (or extending its expiry) lets its secrets work again
but not the tokens it issued before. Expiry boundaries with a moved clock."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from activity.models import Action, ActivityEntry
from apikeys.models import ApiSecret
from apikeys.services import key_disable, key_enable, key_expiry_set, secret_plaintext

from .conftest import basic

LOGIN = "/customerlogin/auth/anonymous/login"


def _token_request(post_token, key, secret):
    return post_token({"grant_type": "client_credentials", "client_id": key.client_id, "client_secret": secret})


def _at(moment):
    return mock.patch("django.utils.timezone.now", return_value=moment)


@pytest.mark.parametrize("kind", ["emporix", "custom"])
def test_a_disabled_key_authenticates_nowhere_and_its_tokens_stop(
    kind, post_token, issue, introspect, acme_secrets, custom, emporix
):
    key, secret = custom if kind == "custom" else acme_secrets["emporix"]
    token = issue(key, secret)
    wrong = _token_request(post_token, key, "wrong-" + secret)
    secrets_before = list(ApiSecret.objects.filter(key=key).values_list("pk", "digest", "expires_at"))

    key_disable(key=key)

    refused = _token_request(post_token, key, secret)
    assert refused.status_code == wrong.status_code == 401
    assert refused.json() == wrong.json()  # indistinguishable from a wrong secret
    # Its tokens are inactive, asked by another (enabled) key of the tenant.
    if kind == "custom":
        assert introspect(*emporix, token) == {"active": False}
    else:
        assert introspect(*custom, token) == {"active": False}
    # The secrets are kept, unchanged, and can still be read by the portal.
    assert list(ApiSecret.objects.filter(key=key).values_list("pk", "digest", "expires_at")) == secrets_before
    assert secret_plaintext(key.secrets.get()) == secret
    assert ActivityEntry.objects.filter(key=key, action=Action.KEY_DISABLED).count() == 1


def test_enabling_again_lets_the_secret_work_but_not_the_earlier_tokens(post_token, issue, introspect, custom, emporix):
    key, secret = custom
    before = issue(key, secret)
    key_disable(key=key)
    key_disable(key=key)  # twice changes nothing more
    key_enable(key=key)

    after = issue(key, secret)
    assert introspect(*emporix, after)["active"] is True
    assert introspect(*emporix, before) == {"active": False}
    actions = list(ActivityEntry.objects.filter(key=key).values_list("action", flat=True))
    assert actions.count(Action.KEY_DISABLED) == 1 and actions.count(Action.KEY_ENABLED) == 1


def test_a_disabled_storefront_key_opens_no_anonymous_session(client, storefront, introspect, emporix):
    key, _ = storefront
    session = client.get(LOGIN, {"tenant": "acme", "client_id": key.client_id}).json()["access_token"]
    key_disable(key=key)
    assert client.get(LOGIN, {"tenant": "acme", "client_id": key.client_id}).status_code == 401
    assert introspect(*emporix, session) == {"active": False}
    key_enable(key=key)
    assert client.get(LOGIN, {"tenant": "acme", "client_id": key.client_id}).status_code == 200


def test_a_disabled_key_cannot_introspect_or_revoke(post_token, issue, custom, emporix):
    key, secret = custom
    token = issue(*emporix)
    key_disable(key=key)
    for url in ("/oauth/introspect", "/oauth/revoke"):
        assert post_token({"token": token}, auth=basic(key.client_id, secret), url=url).status_code == 401


def test_expiry_boundaries_with_a_moved_clock(post_token, introspect, custom, emporix):
    key, secret = custom
    expiry = timezone.now() + timedelta(days=3)
    key_expiry_set(key=key, expires_at=expiry)

    with _at(expiry - timedelta(seconds=1)):
        just_before = _token_request(post_token, key, secret)
        assert just_before.status_code == 200
        token = just_before.json()["access_token"]
        assert introspect(*emporix, token)["active"] is True
    with _at(expiry):
        assert _token_request(post_token, key, secret).status_code == 401
        assert introspect(*emporix, token) == {"active": False}
    with _at(expiry + timedelta(days=1)):
        assert _token_request(post_token, key, secret).json()["error"] == "invalid_client"

    # Extending it (as an admin does from the row) brings the key back, not its old tokens.
    with _at(expiry + timedelta(days=1)):
        key_expiry_set(key=key, expires_at=expiry + timedelta(days=30))
        assert _token_request(post_token, key, secret).status_code == 200
        assert introspect(*emporix, token) == {"active": False}
    changes = ActivityEntry.objects.filter(key=key, action=Action.KEY_EXPIRY_CHANGED).order_by("created_at")
    assert [entry.details["to"] is not None for entry in changes] == [True, True]


def test_built_in_keys_do_not_expire(emporix):
    key, _ = emporix
    with pytest.raises(ValueError, match="Only custom keys"):
        key_expiry_set(key=key, expires_at=timezone.now() + timedelta(days=1))


def test_token_checks_stay_one_query(post_token, custom, django_assert_num_queries):
    key, secret = custom
    key_expiry_set(key=key, expires_at=timezone.now() + timedelta(days=1))
    _token_request(post_token, key, secret)  # warm the compiled query and last-used
    with django_assert_num_queries(1):  # the kept key's token INSERT, which checks the key again
        assert _token_request(post_token, key, secret).status_code == 200
