import unicodedata
from typing import Any

from django import forms
from django.db.models import Prefetch, QuerySet

from scopes.models import Scope, Service
from scopes.unlocks import operation_count, picker_data, scope_diff, unlocked, unscoped_count
from tenants.models import Tenant

from .models import BUILTIN_KINDS, GRACE_PERIODS, ApiKey, KeyKind

# Custom keys may not take a built-in key's name, in any case.
RESERVED_NAMES = {KeyKind(kind).label.casefold() for kind in BUILTIN_KINDS}

# More names than the catalogue holds can only be a forged post; refuse before querying.
MAX_POSTED_SCOPES = 500


class ScopeNamesField(forms.Field):
    """The scope names ticked in the picker, validated by the form against the catalogue.
    Unlike a MultipleChoiceField it keeps every posted name, so that an unknown one can be
    named in the error and the form re-renders with exactly what was sent."""

    widget = forms.SelectMultiple  # only for reading a list out of the POST data
    default_error_messages = {"required": "Choose at least one scope."}

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        names: list[str] = []
        for item in value:
            name = str(item).strip()
            if name and name not in names:
                names.append(name)
        return names


class CustomKeyForm(forms.Form):
    """Name and scopes of a custom key, for creating one (`key=None`) or editing `key`."""

    name = forms.CharField(
        label="Name",
        max_length=64,
        help_text="1 to 64 characters, unique in this tenant.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "maxlength": 64}),
    )
    scopes = ScopeNamesField(label="Scopes")

    def __init__(self, *args: Any, tenant: Tenant, key: ApiKey | None = None, **kwargs: Any) -> None:
        if key is not None and "initial" not in kwargs:
            kwargs["initial"] = {"name": key.name, "scopes": list(key.scopes.values_list("name", flat=True))}
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        self.key = key
        # A key may keep a deprecated scope it already holds; nobody may newly choose one.
        self.held = set(key.scopes.values_list("name", flat=True)) if key is not None else set()

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]  # CharField has stripped it
        if any(unicodedata.category(char).startswith("C") for char in name):
            raise forms.ValidationError("The name cannot contain control characters.", code="control")
        if name.casefold() in RESERVED_NAMES:
            raise forms.ValidationError(f"“{name}” is reserved for a built-in key.", code="reserved")
        others = ApiKey.objects.filter(tenant=self.tenant, name=name)
        if self.key is not None:
            others = others.exclude(pk=self.key.pk)
        if others.exists():
            raise forms.ValidationError(f"This tenant already has a key named “{name}”.", code="taken")
        return name

    def clean_scopes(self) -> list[Scope]:
        names: list[str] = self.cleaned_data["scopes"]
        if len(names) > MAX_POSTED_SCOPES:
            raise forms.ValidationError("Too many scopes.", code="too_many")
        found = {scope.name: scope for scope in Scope.objects.filter(name__in=names)}
        errors = []
        for name in names:
            scope = found.get(name)
            if scope is None:
                shown = name if len(name) <= 100 else name[:100] + "…"
                errors.append(forms.ValidationError(f"“{shown}” is not a scope in the catalogue.", code="unknown"))
            elif scope.deprecated and name not in self.held:
                instead = f" Use {scope.replaced_by} instead." if scope.replaced_by else ""
                errors.append(
                    forms.ValidationError(
                        f"“{name}” is deprecated and can no longer be chosen.{instead}", code="deprecated"
                    )
                )
        if errors:
            raise forms.ValidationError(errors)
        return [found[name] for name in names]

    def chosen_names(self) -> set[str]:
        """The names to show ticked: what was posted, else the initial ones."""
        value = self["scopes"].value() or []
        if isinstance(value, str):
            value = [value]
        return {str(name).strip() for name in value}

    def services(self) -> QuerySet[Service]:
        """Services with the scopes to offer in the picker: every offered scope, plus the
        deprecated ones the key holds (so that saving does not drop them unseen)."""
        scopes = Scope.objects.offered()
        if self.held:
            scopes = Scope.objects.filter(deprecated=False) | Scope.objects.filter(name__in=self.held)
        scopes = scopes.order_by("position", "name")
        return (
            Service.objects.filter(scopes__in=scopes)
            .distinct()
            .order_by("position", "name")
            .prefetch_related(Prefetch("scopes", queryset=scopes, to_attr="picker_scopes"))
        )

    def picker(self) -> dict[str, Any]:
        """What the scope picker renders before any script runs: the services with their
        chosen/total counts, the chosen scopes in catalogue order with what each unlocks, the
        operations they open together and, when editing, the change against the saved scopes."""
        chosen = self.chosen_names()
        services = list(self.services())
        ordered: list[tuple[str, int]] = []
        for service in services:
            service.chosen_count = sum(1 for scope in service.picker_scopes if scope.name in chosen)
            service.is_open = service.chosen_count > 0
            ordered += [
                (scope.name, operation_count(scope.name)) for scope in service.picker_scopes if scope.name in chosen
            ]
        names = [name for name, _ in ordered]
        radius = unlocked(names)
        return {
            "chosen": chosen,
            "services": services,
            "chosen_scopes": ordered,
            "unlocked": radius,
            "unlocked_count": sum(len(group.operations) for group in radius),
            "unscoped_count": unscoped_count(),
            "diff": scope_diff(self.held, names) if self.key is not None else None,
            "held": sorted(self.held),
            "routes": picker_data(),
        }


class RenewForm(forms.Form):
    """When the old secret stops working after a renew; no choice means now."""

    grace = forms.ChoiceField(
        choices=[(period.value, period.label) for period in GRACE_PERIODS],
        required=False,
        error_messages={"invalid_choice": "Choose when the old secret stops working."},
    )

    def clean_grace(self):
        """The grace period as a timedelta, or None for "now"."""
        chosen = self.cleaned_data["grace"] or "now"
        return next(period.duration for period in GRACE_PERIODS if period.value == chosen)
