"""Template tags for every page of the portal (they live in an installed app so that every
template can `{% load portal_tags %}`)."""

from datetime import datetime

from django import template
from django.utils import translation
from django.utils.html import format_html

from accounts.reauth import seconds_left
from kernel.dates import human_datetime, iso_datetime, relative

from ..display import SECRET_MASK

register = template.Library()


@register.simple_tag
def when(value: datetime | None, empty: str = "") -> str:
    """`<time datetime="ISO 8601" title="27 Nov 2026, 16:51 UTC">3 days ago</time>` in the
    current time zone (kernel.dates), or `empty` for None."""
    if value is None:
        return empty
    exact = human_datetime(value)
    return format_html('<time datetime="{}" title="{}">{}</time>', iso_datetime(value), exact, relative(value))


@register.filter
def data_en(value: str) -> str:
    """Catalogue data (service names, scope descriptions), English in every language, marked
    `lang="en"` on a page in another language, so that a screen reader says it as English;
    on an English page it is left as it is."""
    if (translation.get_language() or "en").startswith("en"):
        return value
    return format_html('<span lang="en">{}</span>', value)


@register.simple_tag
def secret_mask() -> str:
    """What stands for a secret that is not shown."""
    return SECRET_MASK


@register.simple_tag(takes_context=True)
def reauth_seconds_left(context: template.Context) -> int:
    """Seconds until this user's recent authentication runs out (0: none), for
    static/js/reauth-keep.js to submit at once while it surely holds."""
    request = context.get("request")
    return seconds_left(request) if request is not None else 0
