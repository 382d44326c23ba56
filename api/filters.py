"""The activity page's filters for the API: the same fields and the same filtering
(`ActivityFilterForm.filter`), without the page's actor choices, whose query reads every entry
of the tenant. Key (a Client ID) and actor are matched exactly as given: the page's key filter
is a search for people, the API's stays an exact Client ID for scripts."""

from typing import Any

from django import forms

from activity.forms import ActivityFilterForm
from activity.models import Action


class ActivityApiFilterForm(ActivityFilterForm):
    key = forms.CharField(required=False, max_length=32)
    action = forms.ChoiceField(required=False, choices=[("", "All actions"), *Action.choices])
    actor = forms.CharField(required=False, max_length=254)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        forms.Form.__init__(self, *args, **kwargs)  # not ActivityFilterForm's: no choices to load

    def filter_key(self, entries, text: str):
        return entries.filter(key_client_id=text)
