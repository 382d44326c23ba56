"""A token row refers to its scope set instead of copying the names (docs/token-storage.md):
every token endpoint answers as before; a key whose scopes change keeps its tokens' grant; a
row from before scope sets is still read, and `intern_token_scopes` moves such rows in
batches while tokens are issued."""

import itertools
import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import close_old_connections, connection
from django.utils import timezone

from apikeys.services import key_update
from kernel.crypto import TOKEN_PREFIX, generate_token
from kernel.crypto import digest as token_digest
from oauth.models import AccessToken, ScopeSet
from oauth.scopesets import ScopeSetCollision, scope_set_id, scope_set_store
from oauth.services import client_credentials_grant, tokens_intern_scopes
from scopes.models import Scope

from .conftest import basic


def _introspect(post_token, reader, token):
    key, secret = reader
    return post_token({"token": token}, auth=basic(key.client_id, secret), url="/oauth/introspect").json()


def test_tokens_of_one_grant_share_one_scope_set_and_copy_no_names(issue, emporix, storefront, custom):
    key, secret = emporix
    issue(key, secret), issue(key, secret)
    issue(*storefront)
    issue(custom[0], custom[1])
    issue(key, secret, scope=" ".join(sorted(Scope.objects.offered().values_list("name", flat=True))[:2]))
    assert AccessToken.objects.filter(scopes__isnull=False).count() == 0
    assert AccessToken.objects.values("scope_set_id").distinct().count() == 4 == ScopeSet.objects.count()
    held = " ".join(
        client_credentials_grant(
            client_id=key.client_id,
            client_secret=secret,
            grant_type="client_credentials",
            scope=None,
            address="127.0.0.1",
        )
        .body["scope"]
        .split()[:-1]
    )
    stored = ScopeSet.objects.get(id=scope_set_id(held))
    assert stored.names == held and len(held.split()) > 100


def test_token_info_and_introspection_answer_the_grant(client, issue, post_token, emporix, custom):
    key, secret = custom
    token = issue(key, secret)
    names = " ".join(sorted(key.scopes.values_list("name", flat=True)))
    info = client.get("/oauth/tokeninfo", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert sorted(info["scopes"]) == names.split()
    assert _introspect(post_token, emporix, token)["scope"] == f"{names} tenant=acme"


def test_a_key_whose_scopes_change_keeps_its_tokens_grant(client, issue, post_token, emporix, custom):
    key, secret = custom
    token = issue(key, secret)
    before = _introspect(post_token, emporix, token)["scope"]
    key_update(key=key, name=key.name, scopes=list(Scope.objects.offered().order_by("-name")[:1]))
    assert _introspect(post_token, emporix, token)["scope"] == before
    fresh = issue(key, secret)
    assert _introspect(post_token, emporix, fresh)["scope"] != before


def test_a_row_from_before_scope_sets_is_read_and_moved(client, post_token, emporix, custom):
    key, _secret = custom
    old = _old_row(key, "orders.order_read orders.order_manage")
    assert _introspect(post_token, emporix, old)["scope"] == "orders.order_read orders.order_manage tenant=acme"
    info = client.get("/oauth/tokeninfo", HTTP_AUTHORIZATION=f"Bearer {old}").json()
    assert sorted(info["scopes"]) == ["orders.order_manage", "orders.order_read"]
    out = StringIO()
    call_command("intern_token_scopes", "--batch-size", "1", stdout=out)
    assert out.getvalue().strip() == "Moved 1 token(s) to scope sets."
    row = AccessToken.objects.values("scopes", "scope_set__names").get(digest=token_digest(old))
    assert row == {"scopes": None, "scope_set__names": "orders.order_read orders.order_manage"}
    assert _introspect(post_token, emporix, old)["scope"] == "orders.order_read orders.order_manage tenant=acme"
    call_command("intern_token_scopes", stdout=out)  # again: nothing left
    assert out.getvalue().strip().endswith("Moved 0 token(s) to scope sets.")


def test_two_sets_with_one_id_are_refused(db):
    ScopeSet.objects.create(id=scope_set_id("a b"), names="something else")
    with pytest.raises(ScopeSetCollision):
        scope_set_store(scope_set_id("a b"), "a b")


def _old_row(key, names: str, **fields) -> str:
    """A token as the portal stored it before scope sets: its own copy of the names."""
    token = generate_token(TOKEN_PREFIX)
    now = timezone.now()
    AccessToken.objects.create(
        digest=token_digest(token),
        key=key,
        secret=key.secrets.get(),
        kind="service",
        scopes=names,
        issued_at=now,
        expires_at=now + timedelta(hours=1),
        **fields,
    )
    return token


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrency on PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_rows_move_in_batches_while_tokens_are_issued(acme_secrets, emporix):
    key, secret = emporix
    sets = ["a b c", "d e", "f"]
    now = timezone.now()
    AccessToken.objects.bulk_create(
        AccessToken(
            digest=token_digest(f"old-{n}"),
            key=key,
            secret=key.secrets.get(),
            scopes=sets[n % 3],
            issued_at=now,
            expires_at=now + timedelta(hours=1),
        )
        for n in range(3000)
    )
    issued, failed, batches = [], [], []
    stop = threading.Event()

    def issue_tokens():
        try:
            while not stop.is_set():
                outcome = client_credentials_grant(
                    client_id=key.client_id,
                    client_secret=secret,
                    grant_type="client_credentials",
                    scope=None,
                    address="127.0.0.2",
                )
                (issued if outcome.status == 200 else failed).append(outcome.status)
        finally:
            close_old_connections()
            connection.close()

    worker = threading.Thread(target=issue_tokens)
    worker.start()
    try:
        moved = tokens_intern_scopes(batch_size=100, pause=0.005, progress=lambda _: batches.append(len(issued)))
    finally:
        stop.set()
        worker.join(timeout=60)
    assert moved == 3000 and len(batches) == 30
    assert not failed and issued
    # Tokens were issued while the migration ran, between its batches, not only before or after.
    assert sum(1 for a, b in itertools.pairwise(batches) if b > a) >= 10
    assert not AccessToken.objects.filter(scope_set__isnull=True).exists()
    assert set(
        AccessToken.objects.filter(digest__in=[token_digest(f"old-{n}") for n in range(3)]).values_list(
            "scope_set__names", flat=True
        )
    ) == set(sets)
