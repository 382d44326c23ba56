"""The activity page's filters for the API: the same fields and the same filtering
(`ActivityFilterForm.filter`), without the page's drop-down choices, whose queries read every
entry of the tenant. Key and actor are matched as given, as the page's choices would match them."""

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
