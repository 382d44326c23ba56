"""Numbers as people read them, in the current language: "1,234" in English, "1.234" in German
(Django's formats; grouping whatever USE_THOUSAND_SEPARATOR says). Machine copies stay plain."""

from django.utils import formats


def grouped(value: int | float) -> str:
    return formats.number_format(value, force_grouping=True)
