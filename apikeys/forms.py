import re
import unicodedata
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_lazy, ngettext

from scopes.models import OPERATOR_SCOPES, Scope, Service
from scopes.unlocks import operation_count, picker_data, scope_diff, unlocked, unscoped_count
from tenants.models import Tenant

from .models import (
    BUILTIN_KINDS,
    DESCRIPTION_MAX_LENGTH,
    GRACE_PERIODS,
    LABEL_MAX_LENGTH,
    LABEL_PATTERN,
    MAX_LABELS,
    RATE_LIMIT_MAX,
    ApiKey,
    Environment,
    KeyKind,
    RatePeriod,
    TokenFormat,
)
from .networks import networks_clean
from .origins import origins_clean
from .scope_summary import NO_OPERATION_NOTE
from .services import KeyMetadata, key_expiry_check

# Custom keys may not take a built-in key's name, in any case.
RESERVED_NAMES = {KeyKind(kind).label.casefold() for kind in BUILTIN_KINDS}

# More names than the catalogue holds can only be a forged post; refuse before querying.
MAX_POSTED_SCOPES = 500


def _lazy(text: Any) -> str:
    """`text()` (a gettext call with its values filled in) when a page renders it, in that
    page's language: a help text with a number in it, defined once at import."""
    return lazy(text, str)()


class ScopeNamesField(forms.Field):
    """The scope names ticked in the picker, validated by the form against the catalogue.
    Unlike a MultipleChoiceField it keeps every posted name, so that an unknown one can be
    named in the error and the form re-renders with exactly what was sent."""

    widget = forms.SelectMultiple  # only for reading a list out of the POST data
    default_error_messages = {"required": gettext_lazy("Choose at least one scope.")}

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


def expiry_field(help_text: Any) -> forms.DateTimeField:
    """A custom key's expiry as the browser's date-and-time picker sends it (local time)."""
    return forms.DateTimeField(
        label=gettext_lazy("Expires"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=help_text,
    )


def expiry_problem(tenant: Tenant, expires_at: datetime | None, now: datetime) -> str:
    """What is wrong with an expiry date key_expiry_check refused, in the page's language
    (its own ValueError says it in English, for the management API)."""
    if expires_at is not None and expires_at <= now:
        return gettext("The expiry date must be in the future.")
    latest = now + timedelta(days=tenant.key_max_lifetime_days or 0)
    return gettext("This tenant's keys may live at most %(days)d days: choose a date until %(date)s.") % {
        "days": tenant.key_max_lifetime_days or 0,
        "date": f"{latest:%Y-%m-%d}",
    }


def expiry_initial(key: ApiKey) -> datetime | None:
    return timezone.localtime(key.expires_at) if key.expires_at else None


def labels_parse(value: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Free labels as typed (separated by commas or spaces; any case) or as a list: lowercase
    slugs, each once, at most MAX_LABELS. ValidationError names what is wrong."""
    items = re.split(r"[\s,]+", value) if isinstance(value, str) else list(value)
    labels: list[str] = []
    for item in items:
        label = str(item).strip().lower()
        if not label or label in labels:
            continue
        if len(label) > LABEL_MAX_LENGTH or not re.match(LABEL_PATTERN, label):
            shown = label if len(label) <= 40 else label[:40] + "…"
            raise forms.ValidationError(
                gettext("“%(label)s” is not a label: use up to %(max)d lowercase letters, digits and hyphens.")
                % {"label": shown, "max": LABEL_MAX_LENGTH},
                code="label",
            )
        labels.append(label)
    if len(labels) > MAX_LABELS:
        raise forms.ValidationError(
            ngettext("At most %(count)d label.", "At most %(count)d labels.", MAX_LABELS) % {"count": MAX_LABELS},
            code="too_many_labels",
        )
    return tuple(sorted(labels))


NOT_A_CHOICE_METADATA = {"invalid_choice": gettext_lazy("Choose production, staging, development or none.")}


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.email


class KeyMetadataFields(forms.Form):
    """What a key is for: description, owner (one of the tenant's members), environment and
    free labels. Mixed into the key form and the settings form; `metadata_init` binds the owner
    choices to the tenant and the initial values to the key."""

    description = forms.CharField(
        label=gettext_lazy("Description"),
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": DESCRIPTION_MAX_LENGTH}),
        help_text=_lazy(
            lambda: (
                gettext("What the key is for and who uses it. Up to %(max)d characters.")
                % {"max": DESCRIPTION_MAX_LENGTH}
            )
        ),
    )
    owner = OwnerChoiceField(
        label=gettext_lazy("Owner"),
        queryset=None,
        required=False,
        empty_label=gettext_lazy("No owner"),
        help_text=gettext_lazy("A member answerable for the key. Cleared if they leave the tenant."),
        error_messages={"invalid_choice": gettext_lazy("Choose a member of this tenant.")},
    )
    environment = forms.ChoiceField(
        label=gettext_lazy("Environment"),
        choices=Environment.choices,
        required=False,
        error_messages=NOT_A_CHOICE_METADATA,
    )
    labels = forms.CharField(
        label=gettext_lazy("Labels"),
        required=False,
        max_length=(LABEL_MAX_LENGTH + 2) * MAX_LABELS,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=_lazy(
            lambda: (
                gettext("Up to %(max)d, separated by commas: lowercase letters, digits and hyphens (erp, team-shop).")
                % {"max": MAX_LABELS}
            )
        ),
    )

    def metadata_init(self, tenant: Tenant, key: ApiKey | None) -> None:
        from django.contrib.auth import get_user_model

        self.fields["owner"].queryset = (
            get_user_model().objects.filter(memberships__tenant=tenant).order_by("email").only("id", "email")
        )
        if key is not None and not self.is_bound:
            self.initial.update(
                {
                    "description": key.description,
                    "owner": key.owner_id,
                    "environment": key.environment,
                    "labels": ", ".join(key.label_list),
                }
            )

    def clean_description(self) -> str:
        text = self.cleaned_data["description"]
        if any(unicodedata.category(char) == "Cc" and char not in "\n\t" for char in text):
            raise forms.ValidationError(gettext("The description cannot contain control characters."), code="control")
        return text.replace("\r\n", "\n")

    def clean_labels(self) -> tuple[str, ...]:
        return labels_parse(self.cleaned_data["labels"])

    METADATA_FIELDS = ("description", "owner", "environment", "labels")

    def metadata_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.METADATA_FIELDS]

    def other_fields(self) -> list[forms.BoundField]:
        return [field for field in self.visible_fields() if field.name not in self.METADATA_FIELDS]

    def metadata(self) -> KeyMetadata:
        data = self.cleaned_data
        return KeyMetadata(
            description=data["description"],
            owner=data["owner"],
            environment=data["environment"] or "",
            labels=data["labels"],
        )


class CustomKeyForm(KeyMetadataFields, forms.Form):
    """Name and scopes of a custom key, for creating one (`key=None`) or editing `key`."""

    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=64,
        help_text=gettext_lazy("1 to 64 characters, unique in this tenant."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "maxlength": 64}),
    )
    scopes = ScopeNamesField(label=gettext_lazy("Scopes"))
    token_format = forms.ChoiceField(
        label=gettext_lazy("Access tokens"),
        choices=TokenFormat.choices,
        required=False,
        help_text=gettext_lazy(
            "Opaque tokens are checked with the portal; JWTs (RFC 9068) are signed and can be checked "
            "offline against the published keys. Both work with introspection."
        ),
    )
    expires_at = expiry_field(
        gettext_lazy(
            "From then on the key's secrets and tokens stop working; its admins are reminded before. Empty: never."
        )
    )

    def __init__(self, *args: Any, tenant: Tenant, key: ApiKey | None = None, **kwargs: Any) -> None:
        if key is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": key.name,
                "scopes": list(key.scopes.values_list("name", flat=True)),
                "token_format": key.token_format,
                "expires_at": expiry_initial(key),
            }
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        self.key = key
        self.metadata_init(tenant, key)
        if tenant.key_max_lifetime_days:
            self.fields["expires_at"].help_text = gettext(
                "This tenant's custom keys live at most %(days)d days. Empty: the maximum. Its admins are reminded before."
            ) % {"days": tenant.key_max_lifetime_days}
        # A key may keep a deprecated scope it already holds; nobody may newly choose one.
        self.held = set(key.scopes.values_list("name", flat=True)) if key is not None else set()

    def clean(self) -> dict[str, Any]:
        # An operator deactivated the tenant over the management API: its keys were disabled,
        # and no new one may start working.
        if self.key is None and self.tenant.deactivated_at is not None:
            raise forms.ValidationError(gettext("This tenant is deactivated: no new keys."), code="deactivated")
        return super().clean()

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]  # CharField has stripped it
        if any(unicodedata.category(char).startswith("C") for char in name):
            raise forms.ValidationError(gettext("The name cannot contain control characters."), code="control")
        if name.casefold() in RESERVED_NAMES:
            raise forms.ValidationError(
                gettext("“%(name)s” is reserved for a built-in key.") % {"name": name}, code="reserved"
            )
        others = ApiKey.objects.filter(tenant=self.tenant, name=name)
        if self.key is not None:
            others = others.exclude(pk=self.key.pk)
        if others.exists():
            raise forms.ValidationError(
                gettext("This tenant already has a key named “%(name)s”.") % {"name": name}, code="taken"
            )
        return name

    def clean_expires_at(self):
        expires_at = self.cleaned_data["expires_at"]
        if self.key is not None and expires_at == self.key.expires_at:
            return expires_at  # unchanged: an earlier date is not re-judged by a newer policy
        now = timezone.now()
        try:
            return key_expiry_check(self.tenant, expires_at, now)
        except ValueError:
            raise forms.ValidationError(expiry_problem(self.tenant, expires_at, now), code="expiry") from None

    def clean_scopes(self) -> list[Scope]:
        names: list[str] = self.cleaned_data["scopes"]
        if len(names) > MAX_POSTED_SCOPES:
            raise forms.ValidationError(gettext("Too many scopes."), code="too_many")
        found = {scope.name: scope for scope in Scope.objects.filter(name__in=names)}
        errors = []
        for name in names:
            scope = found.get(name)
            if scope is None:
                shown = name if len(name) <= 100 else name[:100] + "…"
                errors.append(
                    forms.ValidationError(
                        gettext("“%(name)s” is not a scope in the catalogue.") % {"name": shown}, code="unknown"
                    )
                )
            elif name in OPERATOR_SCOPES and name not in self.held:
                errors.append(
                    forms.ValidationError(
                        gettext("“%(name)s” is for operator keys only.") % {"name": name}, code="operator"
                    )
                )
            elif scope.deprecated and name not in self.held:
                if scope.replaced_by:
                    text = gettext("“%(name)s” is deprecated and can no longer be chosen. Use %(instead)s instead.") % {
                        "name": name,
                        "instead": scope.replaced_by,
                    }
                else:
                    text = gettext("“%(name)s” is deprecated and can no longer be chosen.") % {"name": name}
                errors.append(forms.ValidationError(text, code="deprecated"))
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
            "chosen_without_operation": any(count == 0 for _, count in ordered),
            "no_operation_note": NO_OPERATION_NOTE,
            "unlocked": radius,
            "unlocked_count": sum(len(group.operations) for group in radius),
            "unscoped_count": unscoped_count(),
            "diff": scope_diff(self.held, names) if self.key is not None else None,
            "held": sorted(self.held),
            "routes": picker_data(),
        }


class KeyMetadataForm(KeyMetadataFields):
    """The "What it is for" card of a key's settings page (any key, built-in ones too)."""

    def __init__(self, *args: Any, key: ApiKey, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key = key
        self.metadata_init(key.tenant, key)


class RenewForm(forms.Form):
    """When the old secret stops working after a renew. "Now" (also what an empty choice
    means) is destructive, so it needs `confirm=now` too, which only the danger-styled
    button sends; without it the view asks again instead of renewing."""

    grace = forms.ChoiceField(
        choices=[(period.value, period.label) for period in GRACE_PERIODS],
        required=False,
        error_messages={"invalid_choice": gettext_lazy("Choose when the old secret stops working.")},
    )
    confirm = forms.CharField(required=False)

    def clean_grace(self):
        """The grace period as a timedelta, or None for "now"."""
        chosen = self.cleaned_data["grace"] or "now"
        return next(period.duration for period in GRACE_PERIODS if period.value == chosen)

    @property
    def needs_confirmation(self) -> bool:
        return self.cleaned_data["grace"] is None and self.cleaned_data.get("confirm") != "now"


class KeySettingsForm(forms.Form):
    """A key's hygiene settings: the networks it may be used from and its rate limit (any
    key), and for custom keys an expiry date and an access-token lifetime of its own."""

    allowed_networks = forms.CharField(
        label=gettext_lazy("Allowed networks"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "autocomplete": "off"}),
        help_text=gettext_lazy(
            "IPv4 or IPv6 networks in CIDR notation (203.0.113.0/24, 2001:db8::/32), one per line. "
            "Token requests from other addresses are refused. Empty: any address."
        ),
    )
    allowed_origins = forms.CharField(
        label=gettext_lazy("Allowed web origins"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "autocomplete": "off"}),
        help_text=gettext_lazy(
            "Web pages that may use this key from a browser, one origin per line: https://shop.example.com, "
            "http://127.0.0.1:8000, or https://*.example.com for its subdomains. Requests from other pages are "
            "refused. Empty: no browser page (servers are not affected)."
        ),
    )
    expires_at = expiry_field(
        gettext_lazy(
            "From then on the key's secrets and tokens stop working. Empty: never (unless the tenant's policy sets "
            "a maximum)."
        )
    )
    token_lifetime_minutes = forms.IntegerField(
        label=gettext_lazy("Access-token lifetime (minutes)"),
        required=False,
        min_value=1,
        help_text=gettext_lazy("Empty: the deployment's default."),
    )
    rate_limit = forms.IntegerField(
        label=gettext_lazy("Rate limit (requests)"),
        required=False,
        min_value=1,
        help_text=_lazy(
            lambda: (
                gettext(
                    "At most this many token requests, and separately this many API calls through the gateway, "
                    "in each second or minute, across every instance. Empty: no limit. Up to "
                    "%(per_second)s per second or %(per_minute)s per minute."
                )
                % {
                    "per_second": number_format(RATE_LIMIT_MAX[RatePeriod.SECOND], force_grouping=True),
                    "per_minute": number_format(RATE_LIMIT_MAX[RatePeriod.MINUTE], force_grouping=True),
                }
            )
        ),
        error_messages={"min_value": gettext_lazy("A rate limit is at least 1 request; leave it empty for no limit.")},
    )
    rate_limit_period = forms.ChoiceField(
        label=gettext_lazy("Rate limit period"),
        choices=RatePeriod.choices,
        required=False,
        initial=RatePeriod.MINUTE,
        error_messages={"invalid_choice": gettext_lazy("Choose per second or per minute.")},
    )

    def __init__(self, *args: Any, key: ApiKey, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "allowed_networks": key.allowed_networks,
                "allowed_origins": key.allowed_origins,
                "expires_at": expiry_initial(key),
                "token_lifetime_minutes": key.token_lifetime // 60 if key.token_lifetime else None,
                "rate_limit": key.rate_limit,
                "rate_limit_period": key.rate_limit_period or RatePeriod.MINUTE,
            },
        )
        super().__init__(*args, **kwargs)
        self.key = key
        maximum = settings.ACCESS_TOKEN_LIFETIME_MAX // 60
        self.fields["token_lifetime_minutes"].max_value = maximum
        self.fields["token_lifetime_minutes"].validators.append(MaxValueValidator(maximum))
        self.fields["token_lifetime_minutes"].help_text = gettext(
            "Empty: the deployment's default (%(default)d minutes). At most %(max)d."
        ) % {"default": settings.ACCESS_TOKEN_LIFETIME // 60, "max": maximum}
        if key.is_storefront:
            wildcard = gettext(
                "* allows any page to call the anonymous login (it needs no secret); the token endpoint still "
                "only accepts the origins listed."
            )
            self.fields["allowed_origins"].help_text = f"{self.fields['allowed_origins'].help_text} {wildcard}"
        elif not key.is_custom:
            del self.fields["allowed_origins"]  # the Emporix key is for servers
        if not key.is_custom:
            del self.fields["expires_at"]
            del self.fields["token_lifetime_minutes"]

    def clean_allowed_networks(self) -> str:
        return networks_clean(self.cleaned_data["allowed_networks"])

    def clean_expires_at(self) -> datetime | None:
        """The service checks the date again (and fills in the tenant's maximum); this says
        what is wrong in the page's language."""
        expires_at = self.cleaned_data["expires_at"]
        if expires_at != self.key.expires_at:
            now = timezone.now()
            try:
                key_expiry_check(self.key.tenant, expires_at, now)
            except ValueError:
                raise forms.ValidationError(expiry_problem(self.key.tenant, expires_at, now), code="expiry") from None
        return expires_at

    def clean_allowed_origins(self) -> str:
        return origins_clean(self.cleaned_data["allowed_origins"], allow_any=self.key.is_storefront)

    def clean_rate_limit_period(self) -> str:
        return self.cleaned_data["rate_limit_period"] or RatePeriod.MINUTE  # a form sent without it

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        limit, period = cleaned.get("rate_limit"), cleaned.get("rate_limit_period")
        if limit is not None and period in RATE_LIMIT_MAX and limit > RATE_LIMIT_MAX[period]:
            if period == RatePeriod.SECOND:
                text = gettext("A rate limit per second is at most %(max)s requests.")
            else:
                text = gettext("A rate limit per minute is at most %(max)s requests.")
            self.add_error("rate_limit", text % {"max": number_format(RATE_LIMIT_MAX[period], force_grouping=True)})
        return cleaned


class LeakReportForm(forms.Form):
    secret = forms.CharField(
        label=gettext_lazy("Leaked secret"),
        max_length=200,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=gettext_lazy(
            "Paste the secret that was exposed. If it is a working secret of this tenant, it stops at once."
        ),
    )
    where = forms.CharField(label=gettext_lazy("Where it was found"), required=False, max_length=500)
