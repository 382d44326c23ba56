"""Only the indexes the token paths and the purge read (issue 25, docs/token-storage.md).

On PostgreSQL, built with CREATE INDEX CONCURRENTLY before the old ones go, so that tokens are
issued and checked throughout (the migration is not atomic for that reason):
- the token's and the refresh token's digests: hash indexes (a lookup by equality is all they
  serve; an entry holds a 4-byte hash instead of the 32-byte digest, and the random digests no
  longer split a B-tree's pages half empty). The refresh digest's is partial: only anonymous
  sessions have one. Uniqueness is no longer a constraint: the digests are of 256-bit random
  tokens.
- the expiry: a BRIN index (a few pages for millions of rows, since rows are written in
  roughly the order they expire), for the purge.
- revoked tokens: a partial index of their ids, for the purge.
Other databases get plain indexes on the same columns."""

from django.db import migrations, models

TABLE = "oauth_accesstoken"

POSTGRESQL = [
    ("accesstoken_digest_hash", f"ON {TABLE} USING hash (digest)"),
    ("accesstoken_refresh_hash", f"ON {TABLE} USING hash (refresh_digest) WHERE refresh_digest IS NOT NULL"),
    ("accesstoken_expiry_brin", f"ON {TABLE} USING brin (expires_at)"),
    ("accesstoken_revoked", f"ON {TABLE} (id) WHERE revoked_at IS NOT NULL"),
]
OTHERS = [
    ("accesstoken_digest", f"ON {TABLE} (digest)"),
    ("accesstoken_refresh", f"ON {TABLE} (refresh_digest) WHERE refresh_digest IS NOT NULL"),
    ("accesstoken_expiry", f"ON {TABLE} (expires_at)"),
    ("accesstoken_revoked", f"ON {TABLE} (id) WHERE revoked_at IS NOT NULL"),
]


def _indexes(schema_editor) -> tuple[list[tuple[str, str]], str]:
    if schema_editor.connection.vendor == "postgresql":
        return POSTGRESQL, "CONCURRENTLY "
    return OTHERS, ""


def create(apps, schema_editor) -> None:
    indexes, how = _indexes(schema_editor)
    for name, definition in indexes:
        # IF NOT EXISTS: a run interrupted after some of them resumes. (An interrupted
        # CONCURRENTLY leaves an invalid index: drop it and migrate again; docs/token-storage.md.)
        schema_editor.execute(f"CREATE INDEX {how}IF NOT EXISTS {name} {definition}")


def drop(apps, schema_editor) -> None:
    indexes, how = _indexes(schema_editor)
    for name, _ in indexes:
        schema_editor.execute(f"DROP INDEX {how}IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("oauth", "0004_scope_sets")]

    operations = [
        migrations.RunPython(create, drop, elidable=False),
        migrations.AlterField(
            model_name="accesstoken",
            name="digest",
            field=models.BinaryField(editable=False, max_length=32),
        ),
        migrations.AlterField(
            model_name="accesstoken",
            name="refresh_digest",
            field=models.BinaryField(blank=True, editable=False, max_length=32, null=True),
        ),
        migrations.AlterField(
            model_name="accesstoken",
            name="expires_at",
            field=models.DateTimeField(),
        ),
    ]
