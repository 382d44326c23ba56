"""Links that apps above the keys app add to each key's row and to the top of the keys list
(the access advisor: usage), so that the keys app shows them without importing those apps.
They register from their AppConfig.ready(); the list reverses each URL once per page
(listing._key_urls). Texts may be lazy translations (gettext_lazy, "… for {0}" too): each page
renders them in its own language."""

from dataclasses import dataclass


@dataclass(frozen=True)
class KeyLink:
    name: str  # the key of the row's `urls`
    view_name: str  # a URL taking `code` and `key_id`
    text: str  # the link's text
    label: str  # its accessible name, formatted with the key's name as {0}


_links: dict[str, KeyLink] = {}
_tenant_links: dict[str, str] = {}  # view name (taking `code`) -> the link's text


def key_link_add(name: str, view_name: str, text: str, label: str) -> None:
    """Show a link to `view_name` (for the key) on each key's row of the keys list."""
    _links[name] = KeyLink(name, view_name, text, label)


def key_links() -> list[KeyLink]:
    return list(_links.values())


def tenant_link_add(view_name: str, text: str) -> None:
    """Show a link to `view_name` (for the tenant) above the keys list."""
    _tenant_links[view_name] = text


def tenant_links() -> dict[str, str]:
    return dict(_tenant_links)
