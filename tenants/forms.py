import re

from allauth.mfa.utils import is_mfa_enabled
from django import forms
from django.contrib.auth.forms import SetPasswordForm
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from kernel.mail import has_hidden_characters, one_line

from .models import TENANT_CODE_PATTERN, Invitation, Membership, Role, Tenant, validate_tenant_code
from .services import normalize_email

# Plain English here (tests and the API compare them); gettext() at the point of use.
CODE_TAKEN = gettext_noop("This tenant code is already taken.")
NAME_HIDDEN = gettext_noop("A display name is one line of visible text: no line breaks, tabs or invisible characters.")
NAME_WEB_ADDRESS = gettext_noop("A display name cannot contain a web address.")
# A scheme (https://, mailto:, javascript:), "www." or a domain followed by a path: text a mail
# client shows as a link. A name such as "Booking.com" stays allowed.
_WEB_ADDRESS = re.compile(r"(?i)[a-z][a-z0-9+.-]*://|\b(?:mailto|javascript|data|file):|\bwww\.|\.[a-z]{2,}/")
ALREADY_MEMBER = gettext_noop("This person is already a member of the tenant.")
ALREADY_INVITED = gettext_noop("This address has been invited already: resend or cancel the invitation below.")


class TenantCreateForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Tenant code"),
        max_length=16,
        help_text=gettext_lazy(
            "3 to 16 lowercase letters and digits, starting with a letter. It cannot be changed later."
        ),
        validators=[validate_tenant_code],
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "pattern": TENANT_CODE_PATTERN}),
    )
    name = forms.CharField(label=gettext_lazy("Display name"), max_length=100)

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        if Tenant.objects.filter(code=code).exists():
            raise forms.ValidationError(_(CODE_TAKEN), code="taken")
        return code

    def clean_name(self) -> str:
        """The name lands in invitation mails' subjects and text: one line of visible text
        (spaces collapsed), without a web address that a mail client would make a link of."""
        name = self.cleaned_data["name"]
        if has_hidden_characters(name):
            raise forms.ValidationError(_(NAME_HIDDEN), code="hidden_characters")
        name = one_line(name)
        if not name:
            raise forms.ValidationError(_("Give the tenant a display name."))
        if _WEB_ADDRESS.search(name):
            raise forms.ValidationError(_(NAME_WEB_ADDRESS), code="web_address")
        return name


class MemberAddForm(forms.Form):
    """Invite someone by e-mail with a role. Only the tenant's own members and invitations are
    looked at, never whether the address has an account."""

    email = forms.EmailField(label=gettext_lazy("E-mail"), max_length=254)
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=Role.choices, initial=Role.DEVELOPER)

    def __init__(self, *args, tenant: Tenant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.tenant = tenant

    def clean_email(self) -> str:
        email = normalize_email(self.cleaned_data["email"])
        if Membership.objects.filter(tenant=self.tenant, user__email__iexact=email).exists():
            raise forms.ValidationError(_(ALREADY_MEMBER))
        if Invitation.objects.pending().filter(tenant=self.tenant, email=email).exists():
            raise forms.ValidationError(_(ALREADY_INVITED))
        return email


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=Role.choices)


OWN_MFA_FIRST = gettext_noop(
    "Set up two-factor authentication for your own account first, so that you keep access to the tenant."
)


class TenantPolicyForm(forms.Form):
    """The tenant's security policy. The admin turning MFA on must have it themself, so that
    they do not lock themselves out."""

    require_mfa = forms.BooleanField(
        label=gettext_lazy("Require two-factor authentication"),
        required=False,
        help_text=gettext_lazy(
            "Members without an authenticator app or a passkey must set one up before they see anything of the tenant."
        ),
    )

    key_max_lifetime_days = forms.IntegerField(
        label=gettext_lazy("Maximum lifetime of new custom keys (days)"),
        required=False,
        min_value=1,
        max_value=3650,
        help_text=gettext_lazy(
            "Empty: custom keys may live forever. New keys must then have an expiry date within this."
        ),
    )
    secret_max_age_days = forms.IntegerField(
        label=gettext_lazy("Maximum age of secrets (days)"),
        required=False,
        min_value=1,
        max_value=3650,
        help_text=gettext_lazy(
            "Empty: no limit. A key whose secret was not renewed within this stops working; "
            "setting it gives every key the whole period from today."
        ),
    )
    dormant_after_days = forms.IntegerField(
        label=gettext_lazy("Flag keys unused for (days)"),
        required=False,
        min_value=1,
        max_value=3650,
        initial=90,
        help_text=gettext_lazy("Empty: 90."),
    )
    dormant_disable_after_days = forms.IntegerField(
        label=gettext_lazy("Then disable them after (more days)"),
        required=False,
        min_value=1,
        max_value=3650,
        help_text=gettext_lazy("Empty: flagged keys are never disabled automatically. Admins get a mail first."),
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_dormant_after_days(self) -> int:
        return self.cleaned_data["dormant_after_days"] or 90

    def clean_require_mfa(self) -> bool:
        require_mfa = self.cleaned_data["require_mfa"]
        if require_mfa and not is_mfa_enabled(self.user):
            raise forms.ValidationError(_(OWN_MFA_FIRST), code="own_mfa_first")
        return require_mfa


class AcceptPasswordForm(SetPasswordForm):
    """The password of someone accepting an invitation without an account (or with one that
    has no usable password yet), checked by AUTH_PASSWORD_VALIDATORS against their address."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = _("Choose a password")
        self.fields["new_password2"].label = _("Password again")
