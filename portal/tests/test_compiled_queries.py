"""Queries compiled once (kernel/db.py, the database fast path): run with other values, they
give what the ORM gives, on SQLite and PostgreSQL alike (Django's converters included), and a
marker that does not come out as a parameter is refused at compile time.

And the fence around it: the tests after the line fail, each with a message naming what
changed, when a Django upgrade changes what the fast path relies on."""

import inspect
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import django
import pytest
from django.db import connection, transaction
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import Field, QuerySet
from django.db.models.sql import InsertQuery
from django.db.models.sql.compiler import SQLCompiler, SQLInsertCompiler
from django.db.models.sql.query import Query
from django.utils import timezone

from apikeys.models import ApiKey
from apikeys.services import key_create, key_renew
from kernel import crypto
from kernel.db import CHECKED_WITH_DJANGO, CompiledSelect, compile_once, compiled_statements
from scopes.models import Scope

pytestmark = pytest.mark.django_db

MARKERS = {"tenant": -9001, "name": "\x01name\x01", "since": datetime(2000, 1, 1, tzinfo=UTC)}
COLUMNS = ("pk", "name", "created_at", "public_id", "disabled_at")


def _query(tenant, name, since) -> QuerySet:
    return (
        ApiKey.objects.filter(tenant=tenant, name__icontains=name, created_at__gt=since)
        .order_by("pk")
        .values_list(*COLUMNS)
    )


@pytest.fixture
def keys(acme, globex):
    tax = Scope.objects.filter(name="tax.tax_read")
    for owner in (acme, globex):
        for name in ["Sync 50%", "Sync 500", "Sync_a", "Syncba", "Other"]:
            key_create(tenant=owner, kind="custom", name=name, scopes=tax)
    return acme


@pytest.mark.parametrize("name", ["sync", "50%", "c_a", "\\", "nothing"])
def test_a_compiled_query_gives_what_the_orm_gives(keys, name):
    compiled = compile_once(_query(**MARKERS), MARKERS)
    since = timezone.now() - timedelta(hours=1)
    rows = compiled.rows({"tenant": keys.pk, "name": name, "since": since})
    assert rows == list(_query(keys.pk, name, since))
    assert all(isinstance(row[2], datetime) and row[2].tzinfo is not None for row in rows)  # converted on SQLite too


def test_its_values_are_parameters_not_sql(keys):
    compiled = compile_once(_query(**MARKERS), MARKERS)
    rows = compiled.rows({"tenant": keys.pk, "name": "' OR '1'='1", "since": timezone.now() - timedelta(hours=1)})
    assert rows == []
    assert "\x01name\x01" not in compiled.sql and "-9001" not in compiled.sql


def test_a_marker_that_is_not_a_parameter_is_refused():
    with pytest.raises(RuntimeError, match="since"):
        compile_once(
            ApiKey.objects.filter(tenant=-9001).values_list("pk"), {"tenant": -9001, "since": MARKERS["since"]}
        )


# --- The fence: what the fast path relies on in Django (docs/fast-path.md) ---------------------
# Each test below fails on a Django upgrade that changes something kernel/db.py relies on, with
# a message saying what changed. On an upgrade: run this file on SQLite and PostgreSQL, read
# what fails, fix kernel/db.py (or drop the compiled statement for the plain ORM), then bump
# kernel.db.CHECKED_WITH_DJANGO and the lock's pin.

ROOT = Path(__file__).resolve().parents[2]
CHECKED = ".".join(map(str, CHECKED_WITH_DJANGO))


def test_django_is_the_release_the_fast_path_was_checked_with():
    assert django.VERSION[:3] == CHECKED_WITH_DJANGO and django.VERSION[3] == "final", (
        f"Django is {django.get_version()}, but the database fast path (kernel/db.py) was checked "
        f"with {CHECKED}: run portal/tests/test_compiled_queries.py on SQLite and PostgreSQL, "
        "follow docs/fast-path.md ('On a Django upgrade'), then bump kernel.db.CHECKED_WITH_DJANGO."
    )


def test_the_lock_pins_django_to_that_release():
    lock = ROOT / "requirements" / "runtime.txt"
    pins = re.findall(r"^django\s*==\s*([^\s;\\]+)", lock.read_text(), flags=re.IGNORECASE | re.MULTILINE)
    assert pins == [CHECKED], (
        f"{lock.relative_to(ROOT)} must pin Django=={CHECKED}, the release kernel/db.py was checked "
        f"with (kernel.db.CHECKED_WITH_DJANGO); it pins {pins or 'nothing'}"
    )


# Django's internals that kernel/db.py calls, with the signatures they had when it was checked.
RELIED_ON = [
    (Query.get_compiler, "(self, using=None, connection=None, elide_empty=True)"),
    (SQLCompiler.as_sql, "(self, with_limits=True, with_col_aliases=False)"),
    (SQLCompiler.get_converters, "(self, expressions)"),
    (SQLCompiler.apply_converters, "(self, rows, converters)"),
    (InsertQuery.__init__, "(self, *args, on_conflict=None, update_fields=None, unique_fields=None, **kwargs)"),
    (InsertQuery.insert_values, "(self, fields, objs, raw=False)"),
    (SQLInsertCompiler.as_sql, "(self)"),
    (BaseDatabaseOperations.adapt_datetimefield_value, "(self, value)"),
    (BaseDatabaseOperations.prep_for_like_query, "(self, x)"),
    (Field.get_db_prep_save, "(self, value, connection)"),
]


@pytest.mark.parametrize(("function", "expected"), RELIED_ON, ids=[f.__qualname__ for f, _ in RELIED_ON])
def test_the_django_internals_it_calls_have_the_signatures_it_was_checked_with(function, expected):
    found = str(inspect.signature(function))
    assert found == expected, (
        f"Django {django.get_version()} changed {function.__module__}.{function.__qualname__}{found} "
        f"(it was {expected} in {CHECKED}), which kernel/db.py calls: see docs/fast-path.md"
    )


def test_a_compiled_query_still_finds_its_columns_and_converters():
    # compile_once reads the compiler's `select` (expression, SQL, alias) after as_sql(), to
    # ask for the converters of exactly the columns the statement returns.
    compiler = ApiKey.objects.values_list("pk", "created_at").query.get_compiler("default")
    compiler.as_sql()
    assert len(compiler.select) == 2 and all(len(column) == 3 for column in compiler.select), (
        f"Django {django.get_version()} changed SQLCompiler.select, which kernel.db.compile_once reads"
    )


def test_django_gives_the_pool_the_check_the_portals_backend_replaces():
    # kernel/postgresql/base.py recognises psycopg's own check among the pool's arguments that
    # Django builds from CONN_HEALTH_CHECKS, and puts its QuickCheck in its place. No
    # connection is opened: Django creates its pools closed.
    from django.db.backends.postgresql.base import DatabaseWrapper as DjangoWrapper
    from psycopg_pool import ConnectionPool

    from kernel.postgresql.base import DatabaseWrapper, QuickCheck

    settings = {
        **connection.settings_dict,
        "ENGINE": "kernel.postgresql",
        "NAME": "fence",
        "OPTIONS": {"pool": {"min_size": 1}},
        "CONN_HEALTH_CHECKS": True,
        "CONN_MAX_AGE": 0,
    }
    checks = {}
    for wrapper_class in (DjangoWrapper, DatabaseWrapper):
        wrapper = wrapper_class(settings, alias="fast-path-fence")
        try:
            checks[wrapper_class] = wrapper.pool._check
        finally:
            DjangoWrapper._connection_pools.pop("fast-path-fence", None)
    assert checks[DjangoWrapper] is ConnectionPool.check_connection, (
        f"Django {django.get_version()} no longer gives its pool psycopg's check_connection for "
        f"CONN_HEALTH_CHECKS (found {checks[DjangoWrapper]!r}): kernel/postgresql/base.py replaces it"
    )
    assert isinstance(checks[DatabaseWrapper], QuickCheck)


def _comparable(value):
    """A parameter that compares by value: psycopg's Binary wraps bytes (SQLite's is a memoryview)."""
    value = getattr(value, "obj", value)
    return bytes(value) if isinstance(value, memoryview | bytearray) else value


@contextmanager
def sent() -> Iterator[list[tuple[str, tuple]]]:
    """The (SQL, parameters) of every statement sent on the default connection meanwhile, as
    the database driver gets them (Django's execute wrappers)."""
    statements: list[tuple[str, tuple]] = []

    def record(execute, sql, params, many, context):
        statements.append((sql, tuple(_comparable(value) for value in params or ())))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield statements


# What only kernel/db.py may use: Django's SQL compiler and its query internals.
COMPILER_INTERNALS = re.compile(
    r"django\.db\.models\.sql\b|get_compiler\(|[gs]et_converters\(|apply_converters\(|InsertQuery|SQLCompiler"
    r"|\.query\.(?:where|annotations|select|alias_map)\b"
)


def test_only_kernel_db_reaches_into_djangos_sql_compiler():
    sources = [
        path
        for path in ROOT.rglob("*.py")
        if not {"tests", "migrations", ".venv", "node_modules"} & set(path.relative_to(ROOT).parts)
        and path != ROOT / "kernel" / "db.py"
    ]
    reaching = sorted(str(path.relative_to(ROOT)) for path in sources if COMPILER_INTERNALS.search(path.read_text()))
    assert reaching == [], (
        f"{reaching} use Django's SQL compiler internals: the fast path lives in kernel/db.py alone, "
        "where the fence (this file) covers it"
    )


def test_every_compiled_statement_is_fenced():
    # Their compiled statements register on import.
    import api.base
    import api.views  # noqa: F401
    import apikeys.auth  # noqa: F401
    import oauth.bearer
    import oauth.services  # noqa: F401

    assert set(compiled_statements) == {
        "apikeys.auth.live_rows",
        "apikeys.auth.key_unchanged",
        "oauth.services.insert_token",
        "api.base.caller",
        "api.views.key_page",
        "oauth.bearer.token",
    }, "the compiled statements changed: give each new one a test below that runs it against the ORM"


def assert_as_the_orm(statement: CompiledSelect, values: dict, **shape) -> list[tuple]:
    """`statement` run with `values` sends the SQL and parameters the ORM sends for the same
    queryset, and reads the same rows (Django's converters applied)."""
    with sent() as by_orm:
        expected = list(statement.build(**values, **shape))
    with sent() as compiled:
        rows = statement.rows(values, **shape)
    assert compiled == by_orm, (
        f"Django {django.get_version()} compiles {statement.name} differently from the statement "
        "kernel/db.py compiled once with markers: the fast path would send the left one, the ORM "
        "the right one"
    )
    assert rows == expected, f"{statement.name}: Django's converters read the rows differently"
    return rows


@pytest.mark.parametrize("which", ["live", "revoked", "unknown"])
def test_the_bearer_check_sends_and_reads_what_the_orm_does(acme_secrets, which):
    """Token info, introspection and the uncached gateway check read a token with this one."""
    from oauth.bearer import _token_query
    from oauth.models import AccessToken
    from oauth.services import client_credentials_grant

    key, secret = acme_secrets["emporix"]
    token = client_credentials_grant(
        client_id=key.client_id, client_secret=secret, grant_type="client_credentials", scope=None, address="10.0.0.1"
    ).body["access_token"]
    if which == "revoked":
        AccessToken.objects.update(revoked_at=timezone.now())
    digest = crypto.digest(token if which != "unknown" else token + "x")
    rows = assert_as_the_orm(_token_query, {"digest": digest, "now": timezone.now()})
    assert len(rows) == (1 if which == "live" else 0)
    if rows:
        assert rows[0][4] == key.client_id and len(rows[0][7].split()) > 100  # its Client ID, its 174 scopes


@pytest.fixture
def fence_keys(acme, globex):
    """Keys of two tenants, custom ones with scopes, one with an old secret in its grace time."""
    tax = Scope.objects.filter(name__in=["tax.tax_read", "tax.tax_manage"])
    for owner in (acme, globex):
        for name in ["Sync 50%", "Sync_a", "Other"]:
            key_create(tenant=owner, kind="custom", name=name, scopes=tax)
    renewed = ApiKey.objects.filter(tenant=acme, name="Other").get()
    key_renew(key=renewed, grace=timedelta(hours=1))
    return acme


@pytest.mark.parametrize("known", [True, False])
def test_the_key_check_sends_and_reads_what_the_orm_does(fence_keys, known):
    from apikeys.auth import _live_query

    key = ApiKey.objects.get(tenant=fence_keys, name="Other")
    rows = assert_as_the_orm(_live_query, {"client_id": key.client_id if known else "x" * 32, "now": timezone.now()})
    assert len(rows) == (2 if known else 0)  # the current secret and the one in its grace time


@pytest.mark.parametrize("shape", ["built-in", "custom", "custom with limits"])
def test_the_kept_key_check_sends_and_reads_what_the_orm_does(fence_keys, shape):
    """The check a kept key's token INSERT makes (apikeys.auth.key_unchanged_guard): its shapes
    (a NULL lifetime, limit or scope list, or a value) and what it finds."""
    from apikeys import auth
    from apikeys.services import key_rate_limit_set, key_token_lifetime_set

    key = ApiKey.objects.get(
        tenant=fence_keys, kind="emporix" if shape == "built-in" else "custom", name__in=["Other", "Emporix API"]
    )
    if shape == "custom with limits":
        key_token_lifetime_set(key=key, seconds=600)
        key_rate_limit_set(key=key, limit=5, period="second")
    now = timezone.now()
    [row, *_] = sorted(auth._live_rows(key.client_id, now), key=lambda row: row.expires_at is not None)
    kept = auth.KeptKey(auth._key_of(row, key.client_id), row)
    values = auth.key_unchanged_values(kept, now)
    assert (values["custom_scopes"] is None) == (shape == "built-in")
    assert assert_as_the_orm(auth._unchanged_query, values) == [(row.secret_id,)]
    changed = {**values, "token_lifetime": 60, "custom_scopes": "other.scope", "secret_id": row.secret_id + 1}
    for name in ("token_lifetime", "custom_scopes", "secret_id"):
        assert assert_as_the_orm(auth._unchanged_query, {**values, name: changed[name]}) == []


@pytest.mark.parametrize("known", [True, False])
def test_the_api_caller_is_read_as_the_orm_does(fence_keys, known):
    from api.base import _caller_query

    key = ApiKey.objects.filter(tenant=fence_keys).first()
    rows = assert_as_the_orm(_caller_query, {"key": key.pk if known else -1})
    assert len(rows) == (1 if known else 0)


@pytest.mark.parametrize(
    ("kind", "search", "after", "limit"),
    [
        (None, None, None, 101),
        ("custom", None, None, 2),
        (None, "50%", None, 101),
        (None, "c_a", 1, 101),
        ("custom", "sync", 1, 1),
    ],
)
def test_a_page_of_keys_is_read_as_the_orm_does(fence_keys, kind, search, after, limit):
    from api.views import _key_page_query

    values = {"tenant": fence_keys.pk, "now": timezone.now(), "kind": kind, "search": search, "after": after}
    rows = assert_as_the_orm(_key_page_query, values, limit=limit)
    assert rows
    if kind is None and search is None:
        assert any(isinstance(row[-2], datetime) for row in rows)  # the old secret's end, converted


def test_the_token_insert_is_the_orms_create_without_returning_guarded_by_its_scope_set(acme_secrets):
    from oauth.models import AccessToken, ScopeSet
    from oauth.services import _token_insert

    key, _ = acme_secrets["emporix"]
    secret = key.secrets.get()
    now = timezone.now()
    values = {
        "digest": b"\x01" * 32,
        "refresh_digest": b"\x02" * 32,
        "key_id": key.pk,
        "secret_id": secret.pk,
        "kind": "anonymous",
        "scope_set_id": -42,
        "scopes": None,
        "session_id": uuid.uuid4(),
        "issued_at": now,
        "expires_at": now + timedelta(hours=1),
        "refresh_expires_at": now + timedelta(days=1),
        "revoked_at": None,
    }
    assert {field.attname for field in _token_insert.fields} == set(values), "AccessToken's fields changed"
    with transaction.atomic(), sent() as by_orm:  # undone, so that the compiled one can insert the same
        AccessToken.objects.create(**values)
        transaction.set_rollback(True)
    # Without its scope set, nothing is inserted.
    assert _token_insert.execute(values) is False
    assert not AccessToken.objects.filter(digest=values["digest"]).exists()
    ScopeSet.objects.create(id=-42, names="a b")
    with sent() as compiled:
        assert _token_insert.execute(values) is True
    [(orm_sql, orm_params)] = by_orm
    [(sql, params)] = compiled
    orm_head, _, orm_values = orm_sql.partition(" RETURNING ")[0].rpartition(" VALUES ")
    head, _, select = sql.rpartition(" SELECT ")
    assert head == orm_head and select.startswith(orm_values[1:-1] + " FROM "), (
        f"Django {django.get_version()} writes AccessToken.objects.create() differently from the "
        f"INSERT kernel/db.py compiled:\n  ORM:      {orm_sql}\n  compiled: {sql}"
    )
    assert list(orm_params[: len(params) - 1]) == list(params[:-1]) and params[-1] == -42
    row = AccessToken.objects.filter(digest=values["digest"]).values(*values).get()
    assert {name: bytes(v) if isinstance(v, memoryview) else v for name, v in row.items()} == values


@pytest.mark.parametrize(
    ("environment", "label", "owner"),
    [
        ("production", None, None),
        ("", None, None),
        (None, " erp ", None),
        (None, " a_b ", None),
        (None, None, "alice@example.com"),
        ("staging", " erp ", "alice@example.com"),
    ],
)
def test_a_page_of_keys_filtered_by_metadata_is_read_as_the_orm_does(fence_keys, alice, environment, label, owner):
    from api.views import _key_page_query
    from apikeys.services import KeyMetadata, key_metadata_set

    for key, environment_set in zip(ApiKey.objects.filter(tenant=fence_keys), ["production", "staging", ""]):
        key_metadata_set(key=key, metadata=KeyMetadata(owner=alice, environment=environment_set, labels=("erp",)))
    values = {
        "tenant": fence_keys.pk,
        "now": timezone.now(),
        "kind": None,
        "search": None,
        "after": None,
        "environment": environment,
        "label": label,
        "owner": owner,
    }
    rows = assert_as_the_orm(_key_page_query, values, limit=101)
    if label != " a_b ":
        assert rows
