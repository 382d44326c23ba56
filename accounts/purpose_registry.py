"""The registry of what each action that asks for a re-authentication protects, for that
page's heading ("Confirm it is you to reveal the secret of ERP orders"): apps register their
wording at start-up (their `purposes.register()`); accounts.reauth reads it. Nothing here
imports allauth, so an app's ready() can register without it."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

Describe = Callable[[HttpRequest, Mapping[str, str]], str | None]


@dataclass(frozen=True)
class Purpose:
    describe: Describe
    fields: tuple[str, ...] = ()  # POST fields the wording may depend on (mapped, never shown)
    page: bool = False  # the view's GET asks itself: a `next` naming it can be worded alone


_purposes: dict[str, Purpose] = {}


def purpose_register(view_name: str, describe: Describe, *, fields: tuple[str, ...] = (), page: bool = False) -> None:
    """Word the action of the view `view_name` ("apikeys:secret") for the re-authentication
    page: `describe(request, params)` returns a phrase after "Confirm it is you to" ("reveal
    the secret of ERP orders"), or None (then the page says "continue"). `params` holds the
    URL's arguments as text and the POST's `fields`, as sent: map them to fixed wording,
    never show them. The function must check that the user may see what it names (a key of
    a tenant they belong to), and must not fail on any value."""
    _purposes[view_name] = Purpose(describe, fields, page)


def worded(find: Callable[[HttpRequest, Mapping[str, str]], Any], text: str) -> Describe:
    """A Describe that finds what the action is about (None when the user may not see it) and
    words it: `text` formats it as {0} ("edit {0.name}"). A lazy `text` (gettext_lazy) is
    worded in the page's language: in German a clause with "zu" ("{0.name} zu bearbeiten"),
    after "Bestätigen Sie, dass Sie es sind, um"."""

    def describe(request: HttpRequest, params: Mapping[str, str]) -> str | None:
        found = find(request, params)
        return str(text).format(found) if found is not None else None

    return describe
