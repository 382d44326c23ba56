#!/usr/bin/env python3
"""Bytes per access token on disk (issue 25, docs/token-storage.md).

Creates (or reuses) the PostgreSQL database BENCH_STORAGE_DATABASE_URL (default
portal_bench_storage on 127.0.0.1), migrates it, creates a tenant (its Emporix API and
Storefront API keys), then for each kind of token:

  emporix     a client-credentials token of the Emporix API key (every scope: 174 names)
  storefront  an anonymous-session token of the Storefront API key (with its refresh token)

empties the token table, issues one real token through the token service (so that its row and
its scope set are exactly what the portal writes), copies that row BENCH_TOKENS times (default
10,000,000) with fresh digests, expiries spread over an hour and, for anonymous tokens, fresh
refresh digests and sessions, in one INSERT ... SELECT from generate_series (the indexes kept
up as on the token path), runs VACUUM ANALYZE, and prints the table's heap, its TOAST, each
index and the total, divided by the rows. Then issues a token to check the token path on the
loaded table.
"""

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: the bench package beside it
from bench import harness  # noqa: E402

DATABASE = os.environ.get("BENCH_STORAGE_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench_storage")
ROWS = int(os.environ.get("BENCH_TOKENS", "10000000"))
ENV = {
    **os.environ,
    "DATABASE_URL": DATABASE,
    "DEBUG": "off",
    "SECRET_KEY": "bench-only",
    "PORTAL_ENCRYPTION_KEYS": "bench:9Nf0cS4aYV9V7lQ4w3bq0wqvEx0nq2Ff8a3sOq0kq7M=",
    "EMAIL_URL": "filemail:///tmp/portal-bench-mail",
    "CACHE_URL": "locmemcache://bench",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "DB_STATEMENT_TIMEOUT": "0",  # the load is one long statement
}

COPY = """
INSERT INTO oauth_accesstoken (digest, refresh_digest, key_id, secret_id, kind, scope_set_id,
    scopes, session_id, issued_at, expires_at, refresh_expires_at, revoked_at)
SELECT sha256(convert_to('bench-token-' || n, 'UTF8')),
    CASE WHEN t.refresh_digest IS NULL THEN NULL ELSE sha256(convert_to('bench-refresh-' || n, 'UTF8')) END,
    t.key_id, t.secret_id, t.kind, t.scope_set_id, t.scopes,
    CASE WHEN t.session_id IS NULL THEN NULL ELSE gen_random_uuid() END,
    t.issued_at + (n %% 3600) * interval '1 second', t.expires_at + (n %% 3600) * interval '1 second',
    t.refresh_expires_at, NULL
FROM generate_series(1, %s) AS n, (SELECT * FROM oauth_accesstoken LIMIT 1) AS t
"""


def main() -> None:
    harness.ensure_database(DATABASE)
    harness.manage(ENV, "migrate", "--noinput", timeout=600)
    harness.manage(ENV, "load_scopes", timeout=600)
    os.environ.update(ENV)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.db import connection

    from apikeys.auth import current_secret_plaintext
    from apikeys.models import KeyKind
    from oauth.services import anonymous_login, client_credentials_grant
    from tenants.models import Tenant

    code = f"bstore{int(time.time())}"
    harness.manage(ENV, "create_tenant", code, "--name", "Storage bench", "--admin", "bench@example.com", timeout=120)
    tenant = Tenant.objects.get(code=code)
    keys = {key.kind: key for key in tenant.apikeys.all()}

    def issue(kind: str):
        key = keys[kind]
        if kind == KeyKind.STOREFRONT:
            return anonymous_login(tenant=code, client_id=key.client_id, address="127.0.0.1")
        return client_credentials_grant(
            client_id=key.client_id,
            client_secret=current_secret_plaintext(key),
            grant_type="client_credentials",
            scope=None,
            address="127.0.0.1",
        )

    print(f"{ROWS:,} tokens per kind, PostgreSQL {connection.pg_version // 10000}")
    print(f"{'kind':<11} {'heap':>8} {'toast':>7} {'indexes':>8} {'total':>8}   per index (bytes per token)")
    for label, kind in (("emporix", KeyKind.EMPORIX), ("storefront", KeyKind.STOREFRONT)):
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE oauth_accesstoken")
        assert issue(kind).status == 200
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute(COPY, [ROWS - 1])
        loaded = time.monotonic() - started
        connection.close()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE oauth_accesstoken")
            cursor.execute(
                "SELECT count(*), pg_relation_size('oauth_accesstoken'),"
                " pg_table_size('oauth_accesstoken') - pg_relation_size('oauth_accesstoken'),"
                " pg_indexes_size('oauth_accesstoken') FROM oauth_accesstoken"
            )
            rows, heap, toast, indexes = cursor.fetchone()
            cursor.execute(
                "SELECT c.relname, pg_relation_size(c.oid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                " WHERE i.indrelid = 'oauth_accesstoken'::regclass ORDER BY 1"
            )
            each = ", ".join(f"{name} {size / rows:.1f}" for name, size in cursor.fetchall())
        per = [value / rows for value in (heap, toast, indexes, heap + toast + indexes)]
        print(f"{label:<11} " + " ".join(f"{value:>8.1f}" for value in per) + f"   {each}")
        started = time.monotonic()
        assert issue(kind).status == 200
        print(
            f"{'':<11} loaded in {loaded:.0f} s; a token issued on the loaded table in {(time.monotonic() - started) * 1000:.1f} ms"
        )
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE oauth_accesstoken")


if __name__ == "__main__":
    main()
