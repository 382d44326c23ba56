from datetime import timedelta
from io import StringIO
from unittest import mock

from django.core.management import call_command
from django.utils import timezone

from oauth.models import AccessToken

from .conftest import basic


def test_it_deletes_expired_and_revoked_tokens_only(issue, post_token, client, emporix, storefront):
    key, secret = emporix
    live = issue(key, secret)
    revoked = issue(key, secret)
    post_token({"token": revoked}, auth=basic(key.client_id, secret), url="/oauth/revoke")
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() - timedelta(hours=2)):
        issue(key, secret)  # expired an hour ago
        client.get("/customerlogin/auth/anonymous/login", {"tenant": "acme", "client_id": storefront[0].client_id})
    out = StringIO()
    call_command("purge_tokens", "--batch-size", "1", stdout=out)
    assert out.getvalue().strip() == "Purged 2 token(s)."
    # The live token and the anonymous one (its refresh token still usable) stay.
    assert AccessToken.objects.count() == 2
    assert live
