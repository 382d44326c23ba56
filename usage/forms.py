from django import forms

from .queries import DEFAULT_RANGE, RANGE_ERROR, RANGES


class RangeForm(forms.Form):
    """The `range` parameter of the usage pages, exports and API: 24h (the default), 7d, 30d."""

    range = forms.ChoiceField(
        choices=[(name, chosen.label) for name, chosen in RANGES.items()],
        required=False,
        error_messages={"invalid_choice": RANGE_ERROR},
    )

    def chosen(self) -> str:
        """The valid range's name (the default if none was given); call after is_valid()."""
        return self.cleaned_data.get("range") or DEFAULT_RANGE
