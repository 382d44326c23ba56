from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.db import connection
from django.utils import timezone

from .models import Action, ActivityEntry

# Dates outside these years are typing mistakes; they would also overflow the time arithmetic.
EARLIEST, LATEST = date(2000, 1, 1), date(2999, 12, 31)
DATE_ERRORS = {"invalid": "Enter a real date, e.g. 2026-11-27."}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class ActivityFilterForm(forms.Form):
    """Filters of the activity page, from GET. Keys are chosen by Client ID, so that a
    deleted key's entries can still be found (entries keep the Client ID and name); actors
    by the e-mail address the entries keep. Dates are whole days in the portal's time zone,
    both included."""

    key = forms.ChoiceField(label="Key", required=False)
    action = forms.ChoiceField(label="Action", required=False, choices=[("", "All actions"), *Action.choices])
    actor = forms.ChoiceField(label="Who", required=False)
    since = forms.DateField(label="From", required=False, widget=DateInput(), error_messages=DATE_ERRORS)
    until = forms.DateField(label="To", required=False, widget=DateInput(), error_messages=DATE_ERRORS)

    def __init__(self, *args: Any, tenant_id: int, **kwargs: Any) -> None:
        """The key choices come from the entries themselves (which keep each key's Client ID
        and name): every key the log mentions, by its latest name, those with a deletion
        entry marked deleted. A key the log never mentions has nothing to filter."""
        super().__init__(*args, **kwargs)
        entries = ActivityEntry.objects.filter(tenant_id=tenant_id)
        latest: dict[str, str] = {}
        logged = (
            entries.exclude(key_client_id="")
            .order_by("key_client_id", "-created_at", "-id")
            .values_list("key_client_id", "key_name")
        )
        if connection.features.can_distinct_on_fields:
            logged = logged.distinct("key_client_id")  # PostgreSQL: one row per key
        for client_id, name in logged:
            latest.setdefault(client_id, name)
        deleted = set(
            entries.filter(action=Action.KEY_DELETED).exclude(key_client_id="").values_list("key_client_id", flat=True)
        )
        by_name = sorted(latest.items(), key=lambda item: (item[1].casefold(), item[0]))
        choices = [("", "All keys")]
        choices += [(cid, f"{name} ({cid})") for cid, name in by_name if cid not in deleted]
        choices += [(cid, f"{name} ({cid}, deleted)") for cid, name in by_name if cid in deleted]
        self.fields["key"].choices = choices
        actors = (
            entries.exclude(actor_email="").order_by("actor_email").values_list("actor_email", flat=True).distinct()
        )
        self.fields["actor"].choices = [("", "Everyone"), *((email, email) for email in actors)]

    def _clean_day(self, name: str) -> date | None:
        day = self.cleaned_data.get(name)
        if day is not None and not EARLIEST <= day <= LATEST:
            raise forms.ValidationError(f"Enter a date between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}.")
        return day

    def clean_since(self) -> date | None:
        return self._clean_day("since")

    def clean_until(self) -> date | None:
        return self._clean_day("until")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end date is before the start date.")
        return data

    def filter(self, entries):
        """`entries` narrowed by the valid filters; an invalid one is ignored (and shown)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        if data.get("key"):
            entries = entries.filter(key_client_id=data["key"])
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
