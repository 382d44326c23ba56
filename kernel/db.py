"""Database helpers shared by the apps: a cursor for hot statements, and queries the ORM
compiles once instead of on every request."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from django.db.models import QuerySet
from django.db.models.sql.compiler import SQLCompiler


def hot_cursor(connection: BaseDatabaseWrapper) -> CursorWrapper:
    """A cursor for a fixed statement run on nearly every request (the token service's key
    check and token INSERT, a page of the management API): prepared on the server where the
    backend can (kernel/postgresql/base.py), else Django's usual cursor."""
    prepared = getattr(connection, "prepared_cursor", None)
    return prepared() if prepared is not None else connection.cursor()


@dataclass(frozen=True)
class Slot:
    """Where a marker's value goes among a compiled query's parameters, and how it is adapted:
    "value" as it is, "datetime" as the backend stores datetimes, "contains" as the pattern of
    an `icontains` lookup."""

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

    def rows(self, values: Mapping[str, Any]) -> list[tuple]:
        """Run the query with `values` in the markers' places (one query, prepared where the
        database can); rows as values_list() would give them."""
        connection = connections[self.using]
        params = [_bind(p, values, connection) if isinstance(p, Slot) else p for p in self.params]
        with hot_cursor(connection) as cursor:
            cursor.execute(self.sql, params)
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
    return value


def compile_once(queryset: QuerySet, markers: Mapping[str, Any]) -> CompiledQuery:
    """Compile `queryset` (a values_list() built with the `markers` values where the real
    values will go: odd strings, negative ids, a datetime of 2000) for later runs with other
    values. Building and compiling a queryset costs more CPU than running it: a request that
    runs the same query shape every time compiles it once per process. Raises RuntimeError
    if a marker did not come out as one parameter (the query would not be reusable)."""
    using = queryset.db
    connection = connections[using]
    compiler = queryset.query.get_compiler(using)
    sql, params = compiler.as_sql()
    by_parameter: dict[Any, Slot] = {}
    for name, value in markers.items():
        if isinstance(value, datetime):
            by_parameter[connection.ops.adapt_datetimefield_value(value)] = Slot(name, "datetime")
        else:
            by_parameter[value] = Slot(name, "value")
            if isinstance(value, str):
                by_parameter[f"%{connection.ops.prep_for_like_query(value)}%"] = Slot(name, "contains")
    slotted = tuple(by_parameter.get(p, p) if isinstance(p, str | int | datetime) else p for p in params)
    missing = set(markers) - {p.name for p in slotted if isinstance(p, Slot)}
    if missing:
        raise RuntimeError(f"markers {sorted(missing)} are not parameters of the compiled query")
    converters = compiler.get_converters([column[0] for column in compiler.select])
    return CompiledQuery(using, sql, slotted, compiler, converters)
