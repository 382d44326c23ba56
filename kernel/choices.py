"""A choice's label, cheaply, where pages and answers show one per row.

Django's `get_FOO_display()` builds a dictionary of every choice of the field on each call, and
hashing a translated label (gettext_lazy) translates it: with the activity log's 37 actions, a
page of 100 entries of the management API made 7,400 gettext calls, which took its rate from
0.21x to 0.04x of the token floor (issue 23). The models whose labels are shown per row define
their `get_FOO_display()` with `label_of`: one look-up of the value, one translation."""

from django.db import models


def label_of(choices: type[models.Choices], value: object) -> object:
    """The label of `value` among `choices`, in the active language; a value that is not one of
    them as it is (as Django's get_FOO_display answers)."""
    try:
        return str(choices(value).label)
    except ValueError:
        return value
