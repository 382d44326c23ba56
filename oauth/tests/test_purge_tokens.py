from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from oauth.models import AccessToken
from oauth.services import tokens_purge

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


def test_the_table_is_walked_once_in_windows_of_ids(issue, emporix, django_assert_num_queries):
    """Linear whatever the table holds: one DELETE per window of `batch_size` ids, from the
    first row to the last, never a search for dead rows that reads emptied pages again."""
    key, secret = emporix
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() - timedelta(hours=2)):
        for _ in range(7):
            issue(key, secret)  # expired an hour ago
    live = [issue(key, secret) for _ in range(3)]
    ids = list(AccessToken.objects.order_by("pk").values_list("pk", flat=True))
    windows = -(-(ids[-1] - ids[0] + 1) // 3)
    # The jtis' DELETE, the bounds, and each window's own transaction: its DELETE, after a SET
    # LOCAL on PostgreSQL (BEGIN and COMMIT are not counted).
    per_window = 2 if connection.vendor == "postgresql" else 1
    with django_assert_num_queries(2 + per_window * windows):
        assert tokens_purge(batch_size=3) == 7
    assert AccessToken.objects.count() == len(live)


@pytest.mark.parametrize(
    ("argument", "value", "message"),
    [("--batch-size", "0", "--batch-size must be at least 1."), ("--duty", "0", "--duty must be more than 0")],
)
def test_bad_arguments_are_refused(db, argument, value, message):
    with pytest.raises(CommandError, match=message):
        call_command("purge_tokens", argument, value)


def test_it_rests_in_proportion_to_its_work(issue, emporix, monkeypatch):
    """At a duty of 0.25 it rests three times as long as each window took (a moved clock: each
    window 'takes' 2 seconds)."""
    from oauth import services

    key, secret = emporix
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() - timedelta(hours=2)):
        issue(key, secret)
        issue(key, secret)
    clock = iter(range(0, 100, 2))
    rests = []
    monkeypatch.setattr(services.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(services.time, "sleep", rests.append)
    assert services.tokens_purge(batch_size=1, duty=0.25) == 2
    assert rests == [6.0, 6.0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="synchronous_commit is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_a_windows_commit_does_not_wait_for_the_disk_and_nothing_else_is_changed(issue, emporix):
    """Each window's transaction, and only it, commits with synchronous_commit off: the token
    path's commits do not queue behind the purge's flushes, and the connection goes back to the
    pool as it came (SET LOCAL ends with the transaction)."""
    key, secret = emporix
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() - timedelta(hours=2)):
        for _ in range(4):
            issue(key, secret)
    seen = []

    def spy(execute, sql, params, many, context):
        if sql.startswith("DELETE") and "oauth_accesstoken" in sql:
            with context["connection"].cursor() as cursor:
                cursor.execute("SHOW synchronous_commit")
                seen.append((cursor.fetchone()[0], context["connection"].in_atomic_block))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(spy):
        assert tokens_purge(batch_size=2) == 4
    assert seen and all(state == ("off", True) for state in seen), seen
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
    assert not AccessToken.objects.exists()
