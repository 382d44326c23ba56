"""The keys list's search, filters and sort: its GET parameters, read by a django-filter
FilterSet. Each invalid parameter is dropped (its default applies) and named in `ignored()`,
so a hand-edited or stale URL still shows the list, never an error page."""

from datetime import datetime, timedelta
from typing import Any

import django_filters
from django import forms
from django.core.validators import RegexValidator
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Lower
from django.http import QueryDict
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_lazy

from .models import LABEL_PATTERN, ApiKey, ApiSecret, Environment, KeyKind

# "Unused for N days": the choices offered; another number in the URL is refused (and ignored).
UNUSED_DAYS = (7, 30, 90, 180, 365)

KIND_CHOICES = [
    ("custom", gettext_lazy("Custom API keys")),
    ("all", gettext_lazy("All keys")),
    (KeyKind.EMPORIX.value, KeyKind.EMPORIX.label),
    (KeyKind.STOREFRONT.value, KeyKind.STOREFRONT.label),
]

SORT_CHOICES = [
    ("name", gettext_lazy("Name, A to Z")),
    ("-name", gettext_lazy("Name, Z to A")),
    ("-created", gettext_lazy("Newest first")),
    ("created", gettext_lazy("Oldest first")),
    ("-last_used", gettext_lazy("Recently used first")),
    ("last_used", gettext_lazy("Least recently used first")),
]

# Names without regard to case, and never-used keys as the least recently used.
SORT_ORDER = {
    "name": [Lower("name").asc()],
    "created": [F("created_at").asc()],
    "last_used": [F("last_used_at").asc(nulls_first=True)],
}

VIEW_CHOICES = [("", gettext_lazy("Automatic")), ("table", gettext_lazy("Table")), ("cards", gettext_lazy("Cards"))]

# Without the posted value: a URL may hold anything, and the page need not repeat it.
NOT_A_CHOICE = {"invalid_choice": gettext_lazy("not one of its choices")}


def _days_or_more(days: int) -> str:
    """ "30+ days", when a page renders it."""
    return lazy(lambda: gettext("%(days)d+ days") % {"days": days}, str)()


def key_search_q(text: str) -> Q:
    """The keys page's search: part of the name, Client ID, description or a label."""
    return (
        Q(name__icontains=text)
        | Q(client_id__icontains=text)
        | Q(description__icontains=text)
        | Q(labels__icontains=text)
    )


class KeyListForm(forms.Form):
    """The FilterSet's form: its filters' fields (added by django-filter), and the layout,
    which filters nothing."""

    view = forms.ChoiceField(
        label=gettext_lazy("Layout"), choices=VIEW_CHOICES, required=False, error_messages=NOT_A_CHOICE
    )
    field_order = ["q", "kind", "environment", "label", "owner", "old", "unused", "sort", "view"]


class CheckboxFilter(django_filters.BooleanFilter):
    """A checkbox (`old=1`): ticked or not, where django-filter's BooleanFilter is yes/no/unknown."""

    field_class = forms.BooleanField


class KeyListFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=gettext_lazy("Search"),
        method="search",
        max_length=100,
        error_messages={"max_length": gettext_lazy("longer than 100 characters")},
    )
    kind = django_filters.ChoiceFilter(
        label=gettext_lazy("Kind"),
        choices=KIND_CHOICES,
        method="of_kind",
        empty_label=None,
        error_messages=NOT_A_CHOICE,
    )
    # Key metadata (issue 20): environment, one free label, owner.
    environment = django_filters.ChoiceFilter(
        label=gettext_lazy("Environment"),
        choices=[
            ("any", gettext_lazy("Any environment")),
            *[(value or "none", label) for value, label in Environment.choices],
        ],
        method="in_environment",
        empty_label=None,
        error_messages=NOT_A_CHOICE,
    )
    label = django_filters.CharFilter(
        label=gettext_lazy("Label"),
        method="with_label",
        max_length=32,
        validators=[RegexValidator(LABEL_PATTERN, gettext_lazy("not a label (lowercase letters, digits and hyphens)"))],
        error_messages={"max_length": gettext_lazy("longer than 32 characters")},
    )
    owner = django_filters.ChoiceFilter(
        label=gettext_lazy("Owner"), choices=[], method="owned_by", empty_label=None, error_messages=NOT_A_CHOICE
    )
    old = CheckboxFilter(label=gettext_lazy("Has an old secret"), method="with_old_secret")
    unused = django_filters.TypedChoiceFilter(
        label=gettext_lazy("Unused for"),
        choices=[("", gettext_lazy("Any time"))] + [(str(days), _days_or_more(days)) for days in UNUSED_DAYS],
        coerce=int,
        empty_value=None,
        method="unused_for",
        error_messages=NOT_A_CHOICE,
    )
    # A ChoiceFilter, not django-filter's OrderingFilter: that one takes a comma-separated list
    # of orderings (the page's drop-down, column headers and links show one) and orders by
    # plain field names (the list sorts names without regard to case, never-used keys first).
    sort = django_filters.ChoiceFilter(
        label=gettext_lazy("Sort"),
        choices=SORT_CHOICES,
        method="sorted_by",
        empty_label=None,
        error_messages=NOT_A_CHOICE,
    )

    DEFAULTS: dict[str, Any] = {
        "q": "",
        "kind": "custom",
        "environment": "any",
        "label": "",
        "owner": "any",
        "old": False,
        "unused": None,
        "sort": "name",
        "view": "",
    }
    # The parameters that narrow the list (the rest lay it out).
    NARROWING = ("q", "kind", "environment", "label", "owner", "old", "unused")

    class Meta:
        model = ApiKey
        fields: list[str] = []
        form = KeyListForm

    def __init__(
        self, data: QueryDict, queryset: QuerySet[ApiKey], *, now: datetime, owners: list[tuple[int, str]] = ()
    ) -> None:
        """`owners`: the tenant's members as (user id, e-mail), the owner filter's choices."""
        super().__init__(data, queryset)
        self.now = now
        self.form.fields["owner"].choices = [
            ("any", gettext("Anyone")),
            ("none", gettext("No owner")),
            *[(str(pk), email) for pk, email in owners],
        ]

    def values(self) -> dict[str, Any]:
        """Every parameter: the valid ones as given, the rest their defaults."""
        self.form.is_valid()
        cleaned = getattr(self.form, "cleaned_data", {})
        return {name: cleaned.get(name) or default for name, default in self.DEFAULTS.items()}

    def ignored(self) -> list[str]:
        """What the page says of each invalid parameter."""
        return [
            gettext("%(field)s ignored: %(problem)s.")
            % {"field": self.form.fields[name].label, "problem": errors[0].rstrip(".")}
            for name, errors in self.errors.items()
        ]

    def filter_queryset(self, queryset: QuerySet[ApiKey]) -> QuerySet[ApiKey]:
        # With the defaults in place of invalid values (django-filter skips those): the kind
        # filter and the sort apply even when the URL gives none or a wrong one.
        values = self.values()
        for name, filter_ in self.filters.items():
            queryset = filter_.filter(queryset, values[name])
        return queryset

    def search(self, keys: QuerySet[ApiKey], name: str, text: str) -> QuerySet[ApiKey]:
        return keys.filter(key_search_q(text))

    def in_environment(self, keys: QuerySet[ApiKey], name: str, environment: str) -> QuerySet[ApiKey]:
        if environment == "any":
            return keys
        return keys.filter(environment="" if environment == "none" else environment)

    def with_label(self, keys: QuerySet[ApiKey], name: str, label: str) -> QuerySet[ApiKey]:
        return keys.filter(labels__contains=f" {label} ") if label else keys

    def owned_by(self, keys: QuerySet[ApiKey], name: str, owner: str) -> QuerySet[ApiKey]:
        if owner == "any":
            return keys
        return keys.filter(owner__isnull=True) if owner == "none" else keys.filter(owner_id=int(owner))

    def of_kind(self, keys: QuerySet[ApiKey], name: str, kind: str) -> QuerySet[ApiKey]:
        return keys if kind == "all" else keys.filter(kind=kind)

    def with_old_secret(self, keys: QuerySet[ApiKey], name: str, ticked: bool) -> QuerySet[ApiKey]:
        if not ticked:
            return keys
        return keys.filter(Exists(ApiSecret.objects.in_grace(self.now).filter(key=OuterRef("pk"))))

    def unused_for(self, keys: QuerySet[ApiKey], name: str, days: int) -> QuerySet[ApiKey]:
        # Neither used nor created within the last `days` days.
        cutoff = self.now - timedelta(days=days)
        return keys.filter(Q(last_used_at__lt=cutoff) | Q(last_used_at__isnull=True, created_at__lt=cutoff))

    def sorted_by(self, keys: QuerySet[ApiKey], name: str, sort: str) -> QuerySet[ApiKey]:
        order = SORT_ORDER[sort.lstrip("-")]
        if sort.startswith("-"):
            order = [expression.copy().reverse_ordering() for expression in order]
        return keys.order_by(*order, Lower("name"), "pk")  # the same order on every page
