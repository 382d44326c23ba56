"""My Account shows what other apps know of the user (their tenants and roles, their mail
preferences). The accounts app is below those apps and imports none of them: each registers
what it adds to the page here, from its AppConfig.ready()."""

from collections.abc import Callable
from typing import Any

_contributors: dict[str, Callable[[Any], dict[str, Any]]] = {}


def my_account_contribute(name: str, context: Callable[[Any], dict[str, Any]]) -> None:
    """Add `context(user)`'s items to My Account's template context (registered once by name)."""
    _contributors[name] = context


def my_account_context(user: Any) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for contribute in _contributors.values():
        context.update(contribute(user))
    return context
