"""What apps above the keys app add to each key of the keys page (the usage app: calls in the
last 24 hours). The keys app imports none of them: each registers a column here, from its
AppConfig.ready(), with a function that reads its values for a whole page of keys at once (one
query, whatever the number of keys) and the template that shows one key's value."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class KeyColumn:
    name: str
    label: str  # the table's column heading and the card's term (a gettext_lazy text: per page language)
    template: str  # renders one key's `value` (and may use `key`, `row`, `tenant`)
    # (the page's keys, its tenant, now) -> {key pk: value}; keys left out get None
    values: Callable[[list[Any], Any, datetime], dict[int, Any]]


_columns: dict[str, KeyColumn] = {}


def key_column_add(column: KeyColumn) -> None:
    """Show `column` for every key of the keys page (registered once by name)."""
    _columns[column.name] = column


def key_columns() -> list[KeyColumn]:
    return list(_columns.values())


def key_column_values(keys: list[Any], tenant: Any, now: datetime) -> dict[int, list[tuple[KeyColumn, Any]]]:
    """Per key pk: each column with the key's value, in registration order."""
    found = {column.name: column.values(keys, tenant, now) for column in _columns.values()}
    return {key.pk: [(column, found[column.name].get(key.pk)) for column in _columns.values()] for key in keys}
