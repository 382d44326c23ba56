from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from .models import Action, ActivityEntry

# Dates outside these years are typing mistakes; they would also overflow the time arithmetic.
EARLIEST, LATEST = date(2000, 1, 1), date(2999, 12, 31)
DATE_ERRORS = {"invalid": gettext_lazy("Enter a real date, e.g. 2026-11-27.")}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class ActivityFilterForm(forms.Form):
    """Filters of the activity page, from GET. The key is a search: the text matches the
    name an entry keeps (any part, any case) or its Client ID (any part), so that a deleted or
    renamed key's entries can still be found; a suggestion (activity.suggestions) fills in a
    whole Client ID, which finds every entry of that key whatever it was called. Actors by the
    e-mail address the entries keep. Dates are whole days in the portal's time zone, both
    included."""

    key = forms.CharField(
        label=gettext_lazy("Key"),
        required=False,
        max_length=64,
        help_text=gettext_lazy("Part of a key's name or Client ID."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "spellcheck": "false"}),
    )
    action = forms.ChoiceField(
        label=gettext_lazy("Action"), required=False, choices=[("", gettext_lazy("All actions")), *Action.choices]
    )
    actor = forms.ChoiceField(label=gettext_lazy("Who"), required=False)
    since = forms.DateField(label=gettext_lazy("From"), required=False, widget=DateInput(), error_messages=DATE_ERRORS)
    until = forms.DateField(label=gettext_lazy("To"), required=False, widget=DateInput(), error_messages=DATE_ERRORS)

    def __init__(self, *args: Any, tenant_id: int, **kwargs: Any) -> None:
        """The actor choices come from the entries (one query; a tenant has few members).
        Keys are not listed: a tenant may have thousands (the search suggests them)."""
        super().__init__(*args, **kwargs)
        entries = ActivityEntry.objects.filter(tenant_id=tenant_id)
        actors = (
            entries.exclude(actor_email="").order_by("actor_email").values_list("actor_email", flat=True).distinct()
        )
        self.fields["actor"].choices = [("", gettext("Everyone")), *((email, email) for email in actors)]

    def _clean_day(self, name: str) -> date | None:
        day = self.cleaned_data.get(name)
        if day is not None and not EARLIEST <= day <= LATEST:
            raise forms.ValidationError(
                gettext("Enter a date between %(earliest)s and %(latest)s.")
                % {"earliest": f"{EARLIEST:%Y-%m-%d}", "latest": f"{LATEST:%Y-%m-%d}"}
            )
        return day

    def clean_since(self) -> date | None:
        return self._clean_day("since")

    def clean_until(self) -> date | None:
        return self._clean_day("until")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", gettext("The end date is before the start date."))
        return data

    def filter_key(self, entries, text: str):
        return entries.filter(Q(key_client_id__contains=text) | Q(key_name__icontains=text))

    def filter(self, entries):
        """`entries` narrowed by the valid filters; an invalid one is ignored (and shown)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        if data.get("key"):
            entries = self.filter_key(entries, data["key"])
        if data.get("action"):
            entries = entries.filter(action=data["action"])
        if data.get("actor"):
            entries = entries.filter(actor_email=data["actor"])
        zone = timezone.get_current_timezone()
        if data.get("since"):
            entries = entries.filter(created_at__gte=datetime.combine(data["since"], time.min, tzinfo=zone))
        if data.get("until"):
            end = data["until"] + timedelta(days=1)
            entries = entries.filter(created_at__lt=datetime.combine(end, time.min, tzinfo=zone))
        return entries
