from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, gettext_lazy, gettext_noop

from .addresses import address_allowed, is_literal_address
from .events import EVENT_TYPES, PRESELECTED

LOOPBACK_HOSTS = {"127.0.0.1", "::1", "localhost"}
# Plain English (tests compare them); gettext() where they are raised.
HTTPS_ONLY = gettext_noop("The URL must start with https://.")
NOT_PUBLIC = gettext_noop("This address is not on the public internet; the portal delivers only to public addresses.")


def validate_endpoint_url(value: str) -> None:
    """An endpoint URL: https:// with a host and without credentials in it; http:// only to
    loopback (127.0.0.1, [::1], localhost) and only with WEBHOOKS_ALLOW_HTTP_LOOPBACK. A literal
    address must be a public one (webhooks.addresses); names are checked at every delivery."""
    parts = urlsplit(value)
    try:
        host = parts.hostname
        parts.port  # noqa: B018 (raises ValueError for a port out of range)
    except ValueError:
        raise ValidationError(gettext("This URL's host or port is not valid."), code="invalid") from None
    if not host:
        raise ValidationError(gettext("The URL needs a host name."), code="invalid")
    if parts.username is not None or parts.password is not None:
        raise ValidationError(gettext("Put no user name or password in the URL."), code="credentials")
    if parts.fragment:
        raise ValidationError(gettext("A URL with a #fragment cannot be delivered to."), code="fragment")
    if is_literal_address(host) and not address_allowed(host):
        raise ValidationError(gettext(NOT_PUBLIC), code="not_public")
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and settings.WEBHOOKS_ALLOW_HTTP_LOOPBACK and host in LOOPBACK_HOSTS:
        return
    raise ValidationError(gettext(HTTPS_ONLY), code="https_only")


class EndpointForm(forms.Form):
    url = forms.URLField(
        label=gettext_lazy("Endpoint URL"),
        max_length=500,
        assume_scheme="https",
        validators=[validate_endpoint_url],
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/webhooks/api-keys", "autocomplete": "off"}),
    )
    description = forms.CharField(label=gettext_lazy("Description"), max_length=100, required=False)
    event_types = forms.MultipleChoiceField(
        label=gettext_lazy("Events"),
        choices=[(event.code, event.label) for event in EVENT_TYPES],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Choose at least one event.")},
        initial=PRESELECTED,
        help_text=gettext_lazy(
            "Every event but “Secret revealed or copied” is ticked to begin with: that one comes each "
            "time someone reads a secret and says who looked at which key; tick it if you need it."
        ),
    )

    def __init__(self, *args, with_active: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if with_active:  # an endpoint's settings: its own events are ticked, nothing is preselected
            self.fields["event_types"].help_text = ""
            self.fields["is_active"] = forms.BooleanField(
                label=gettext("Active (send events to this endpoint)"), required=False
            )
