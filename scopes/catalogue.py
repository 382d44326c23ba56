"""Loading the scope catalogue (scopes/data/emporix-scopes.json) into Service and Scope rows.

Loading is idempotent: a second run changes nothing, a changed description is updated, a new
scope is added, and a scope that left the catalogue is kept, marked deprecated and no longer
offered. Nothing is deleted, so a key that holds such a scope keeps it; the loader need not
know which keys hold what.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CATALOGUE_PATH = Path(__file__).resolve().parent / "data" / "emporix-scopes.json"
# The project's own addition: the "Portal API" service (the management API's scopes). Loaded
# with every catalogue, so that reloading Emporix's copy never deprecates them.
PORTAL_CATALOGUE_PATH = Path(__file__).resolve().parent / "data" / "portal-scopes.json"


@dataclass
class LoadReport:
    services_created: int = 0
    services_updated: int = 0
    scopes_created: int = 0
    scopes_updated: int = 0
    scopes_deprecated: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(
            [
                self.services_created,
                self.services_updated,
                self.scopes_created,
                self.scopes_updated,
                self.scopes_deprecated,
            ]
        )

    def __str__(self) -> str:
        return (
            f"services: {self.services_created} created, {self.services_updated} updated; "
            f"scopes: {self.scopes_created} created, {self.scopes_updated} updated, "
            f"{len(self.scopes_deprecated)} newly deprecated"
        )


def read_catalogue(path: Path = CATALOGUE_PATH) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _update(obj: Any, values: dict[str, Any]) -> bool:
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    if changed:
        obj.save(update_fields=changed)
    return bool(changed)


def load_catalogue(service_model: Any, scope_model: Any, data: dict[str, Any] | None = None) -> LoadReport:
    """Load the catalogue through the given models (real ones, or a migration's historical
    ones). Call it inside a transaction."""
    data = data if data is not None else read_catalogue()
    portal = read_catalogue(PORTAL_CATALOGUE_PATH)
    own = {entry["key"] for entry in portal["services"]}
    data = {**data, "services": [s for s in data["services"] if s["key"] not in own] + portal["services"]}
    report = LoadReport()
    storefront = set(data.get("storefront_scopes", []))
    deprecated = {entry["name"]: entry.get("replaced_by", "") for entry in data.get("deprecated_scopes", [])}

    services = {service.key: service for service in service_model.objects.all()}
    scopes = {scope.name: scope for scope in scope_model.objects.all()}
    seen: set[str] = set()

    for service_position, entry in enumerate(data["services"]):
        values = {
            "name": entry["name"],
            "reference_url": entry.get("reference_url", ""),
            "note": entry.get("note", ""),
            "position": service_position,
        }
        service = services.get(entry["key"])
        if service is None:
            service = service_model.objects.create(key=entry["key"], **values)
            services[service.key] = service
            report.services_created += 1
        elif _update(service, values):
            report.services_updated += 1

        for scope_position, scope_entry in enumerate(entry["scopes"]):
            name = scope_entry["name"]
            seen.add(name)
            values = {
                "service_id": service.pk,
                "description": scope_entry.get("description", ""),
                "source": scope_entry.get("source", ""),
                "storefront": name in storefront,
                "deprecated": name in deprecated,
                "replaced_by": deprecated.get(name, ""),
                "position": scope_position,
            }
            scope = scopes.get(name)
            if scope is None:
                scope_model.objects.create(name=name, **values)
                report.scopes_created += 1
            elif _update(scope, values):
                report.scopes_updated += 1

    # Scopes that left the catalogue stay, deprecated: a key may hold them.
    for name, scope in scopes.items():
        if name not in seen and not scope.deprecated:
            scope.deprecated = True
            scope.replaced_by = deprecated.get(name, "")
            scope.save(update_fields=["deprecated", "replaced_by"])
            report.scopes_deprecated.append(name)
    return report
