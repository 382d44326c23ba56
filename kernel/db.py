"""The portal's database fast path: the statements of every token request (the key check and
the token INSERT) and of every management API call (the caller, and a page of keys), compiled
by Django's own SQL compiler once per process and database instead of on every request.
Everything else is the plain ORM.

Building and compiling these querysets (joins, subqueries, the live-secret rule) costs more CPU
than PostgreSQL's time to run them, and the ORM's create() more than the INSERT itself: with
the plain ORM, token issuing fell from about 1.1x the bare floor to 0.5x on the benchmark, and
a page of keys to two thirds of its rate (docs/fast-path.md has the measurements).

This is the only module that reaches into Django's SQL compiler. What it relies on, and how a
Django upgrade is checked against it, is in docs/fast-path.md; the fence is
portal/tests/test_compiled_queries.py, which fails while `django.VERSION` is not
CHECKED_WITH_DJANGO and whenever a compiled statement's SQL, parameters or rows differ from
what the ORM itself sends and reads for the same statement."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model, QuerySet
from django.db.models.sql import InsertQuery
from django.db.models.sql.compiler import SQLCompiler

# The Django release this module, and what it relies on, was last checked with. Bump it only
# after the fence test passes on the new release (docs/fast-path.md, "On a Django upgrade").
CHECKED_WITH_DJANGO = (5, 2, 20)


@dataclass(frozen=True)
class Slot:
    """Where a marker's value goes among a compiled query's parameters, and how it is adapted:
    "value" as it is, "datetime" as the backend stores datetimes, "contains" as the pattern of
    an `icontains` lookup, "binary" wrapped as the driver takes bytes (a BinaryField's value)."""

    name: str
    adapt: str


@dataclass(frozen=True)
class CompiledQuery:
    """A values_list() queryset compiled once: its SQL, its parameters (literal values and
    Slots) and the converters Django applies to its rows."""

    using: str
    sql: str
    params: tuple[Any, ...]
    compiler: SQLCompiler
    converters: dict

    def bind(self, values: Mapping[str, Any]) -> list[Any]:
        """The parameters with `values` in the markers' places, as the ORM would send them."""
        connection = connections[self.using]
        return [_bind(p, values, connection) if isinstance(p, Slot) else p for p in self.params]

    def rows(self, values: Mapping[str, Any]) -> list[tuple]:
        """Run the query with `values` in the markers' places (one query); rows as
        values_list() would give them."""
        with connections[self.using].cursor() as cursor:
            cursor.execute(self.sql, self.bind(values))
            rows = cursor.fetchall()
        if self.converters:
            rows = [tuple(row) for row in self.compiler.apply_converters(rows, self.converters)]
        return rows


def _bind(slot: Slot, values: Mapping[str, Any], connection: BaseDatabaseWrapper) -> Any:
    value = values[slot.name]
    if slot.adapt == "datetime":
        return connection.ops.adapt_datetimefield_value(value)
    if slot.adapt == "contains":
        return f"%{connection.ops.prep_for_like_query(value)}%"
    if slot.adapt == "binary":
        return connection.Database.Binary(value)  # as BinaryField.get_db_prep_value wraps it
    return value


def _unwrapped(param: Any) -> Any:
    """A parameter as a marker compares with it: the bytes inside the driver's Binary wrapper
    (psycopg's keeps them in `obj`, SQLite's is a memoryview)."""
    param = getattr(param, "obj", param)
    return bytes(param) if isinstance(param, memoryview | bytearray) else param


def compile_once(queryset: QuerySet, markers: Mapping[str, Any]) -> CompiledQuery:
    """Compile `queryset` (a values_list() built with the `markers` values where the real
    values will go: odd strings, negative ids, a datetime of 2000) for later runs with other
    values. Raises RuntimeError if a marker did not come out as one parameter (the query would
    not be reusable)."""
    using = queryset.db
    connection = connections[using]
    compiler = queryset.query.get_compiler(using)
    sql, params = compiler.as_sql()
    by_parameter: dict[Any, Slot] = {}
    by_bytes: dict[bytes, Slot] = {}
    for name, value in markers.items():
        if isinstance(value, datetime):
            by_parameter[connection.ops.adapt_datetimefield_value(value)] = Slot(name, "datetime")
        elif isinstance(value, bytes):
            by_bytes[value] = Slot(name, "binary")
        else:
            by_parameter[value] = Slot(name, "value")
            if isinstance(value, str):
                by_parameter[f"%{connection.ops.prep_for_like_query(value)}%"] = Slot(name, "contains")
    slotted = tuple(
        by_parameter.get(p, p)
        if isinstance(p, str | int | datetime)
        else by_bytes.get(_unwrapped(p), p)
        if isinstance(_unwrapped(p), bytes)
        else p
        for p in params
    )
    missing = set(markers) - {p.name for p in slotted if isinstance(p, Slot)}
    if missing:
        raise RuntimeError(f"markers {sorted(missing)} are not parameters of the compiled query")
    converters = compiler.get_converters([column[0] for column in compiler.select])
    return CompiledQuery(using, sql, slotted, compiler, converters)


# Every compiled statement of the portal, by name: the fence test runs each against the ORM.
compiled_statements: dict[str, "CompiledSelect | CompiledInsert"] = {}


class CompiledSelect:
    """A values_list() query of `model` that `build(**values, **shape)` makes, compiled on its
    first run on a database (the one the router picks for reading `model`) and shape, with
    `markers` where the values go.

    A value of None is left out: `build` gets None for it and is expected to leave its filter
    out, and which values are present is part of the shape (a query with the filter and one
    without are two compiled statements). `shape` holds what is not a parameter of the SQL
    (Django writes a LIMIT into the SQL itself)."""

    def __init__(
        self, name: str, model: type[Model], build: Callable[..., QuerySet], markers: Mapping[str, Any]
    ) -> None:
        self.name, self.model, self.build, self.markers = name, model, build, dict(markers)
        self._compiled: dict[tuple, CompiledQuery] = {}
        compiled_statements[name] = self

    def compiled(self, values: Mapping[str, Any], using: str | None = None, **shape: Any) -> CompiledQuery:
        using = using or router.db_for_read(self.model)
        present = frozenset(name for name, value in values.items() if value is not None)
        key = (using, present, tuple(sorted(shape.items())))
        compiled = self._compiled.get(key)
        if compiled is None:
            markers = {name: self.markers[name] for name in present}
            queryset = self.build(**{name: markers.get(name) for name in values}, **shape)
            compiled = self._compiled[key] = compile_once(queryset.using(using), markers)
        return compiled

    def rows(self, values: Mapping[str, Any], **shape: Any) -> list[tuple]:
        """What `list(build(**values, **shape))` gives, in one query, without building the
        queryset."""
        return self.compiled(values, **shape).rows(values)


class CompiledInsert:
    """The INSERT of one row of `model` (every concrete field but the primary key), as Django's
    insert compiler writes it for `create()` but without RETURNING (the caller needs no id):
    compiled once per database (the one the router picks for writing `model`). Each value goes
    through its field's get_db_prep_save(), as the compiler's own do."""

    def __init__(self, name: str, model: type[Model], *, only_if: str | None = None) -> None:
        """With `only_if` (the attname of a foreign key), the row is inserted only if the row it
        refers to exists: the statement becomes INSERT ... SELECT <the values> FROM <that
        table> WHERE <its primary key> = <the value>, which reads the referred row's index
        without locking it (a foreign-key constraint would take a share lock on it)."""
        self.name, self.model, self.only_if = name, model, only_if
        self.fields: list[Field] = [field for field in model._meta.concrete_fields if not field.primary_key]
        self._sql: dict[str, str] = {}
        compiled_statements[name] = self

    def sql(self, using: str) -> str:
        sql = self._sql.get(using)
        if sql is None:
            query = InsertQuery(self.model)
            query.insert_values(self.fields, [self.model()])
            [(sql, _)] = query.get_compiler(using=using).as_sql()
            if self.only_if is not None:
                sql = self._guarded(sql, connections[using])
            self._sql[using] = sql
        return sql

    def _guarded(self, sql: str, connection: Any) -> str:
        head, values = sql.rsplit(" VALUES ", 1)
        if not (values.startswith("(") and values.endswith(")")):
            raise RuntimeError(f"Django's INSERT of {self.model.__name__} no longer ends in one row of values")
        referred = self.model._meta.get_field(self.only_if.removesuffix("_id")).related_model._meta
        quote = connection.ops.quote_name
        # Identifiers from the models' metadata, quoted; the values stay parameters.
        table, column = quote(referred.db_table), quote(referred.pk.column)
        return f"{head} SELECT {values[1:-1]} FROM {table} WHERE {table}.{column} = %s"  # noqa: S608

    def bind(self, values: Mapping[str, Any], using: str) -> list[Any]:
        connection = connections[using]
        bound = [field.get_db_prep_save(values[field.attname], connection) for field in self.fields]
        if self.only_if is not None:
            bound.append(values[self.only_if])
        return bound

    def execute(self, values: Mapping[str, Any], guard: tuple[str, list[Any]] | None = None) -> bool:
        """Insert one row: `values` holds a value for each field's attname. False if `only_if`
        refers to a row that does not exist (nothing was inserted). `guard`, the SQL and
        parameters of a query (a CompiledQuery's), adds a condition to `only_if`'s: the row is
        inserted only if that query finds a row, in the same statement."""
        using = router.db_for_write(self.model)
        sql, params = self.sql(using), self.bind(values, using)
        if guard is not None:
            if self.only_if is None:
                raise ValueError("a guard needs only_if's INSERT ... SELECT ... WHERE")
            sql, params = f"{sql} AND EXISTS ({guard[0]})", [*params, *guard[1]]
        with connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount != 0
