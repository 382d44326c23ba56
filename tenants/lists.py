"""The tenant list shows counts that apps above this one keep (the keys app: keys per tenant).
They register the annotations of the user's memberships here, from their AppConfig.ready()."""

from collections.abc import Callable
from typing import Any

_annotations: dict[str, Callable[[], Any]] = {}


def tenant_list_annotate(name: str, expression: Callable[[], Any]) -> None:
    """Annotate each Membership row of the tenant list with `name` = `expression()`."""
    _annotations[name] = expression


def tenant_list_annotations() -> dict[str, Any]:
    return {name: expression() for name, expression in _annotations.items()}
