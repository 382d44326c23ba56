from collections.abc import Iterator

from django import forms
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpRequest

from accounts.models import User

from .models import TENANT_CODE_PATTERN, Membership, Role, Tenant, validate_tenant_code

CODE_TAKEN = "This tenant code is already taken."
ALREADY_MEMBER = "This person is already a member of the tenant."


class TenantCreateForm(forms.Form):
    code = forms.CharField(
        label="Tenant code",
        max_length=16,
        help_text="3 to 16 lowercase letters and digits, starting with a letter. It cannot be changed later.",
        validators=[validate_tenant_code],
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "pattern": TENANT_CODE_PATTERN}),
    )
    name = forms.CharField(label="Display name", max_length=100)

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        if Tenant.objects.filter(code=code).exists():
            raise forms.ValidationError(CODE_TAKEN, code="taken")
        return code

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the tenant a display name.")
        return name


class MemberAddForm(forms.Form):
    email = forms.EmailField(label="E-mail", max_length=254)
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.DEVELOPER)

    def __init__(self, *args, tenant: Tenant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.tenant = tenant

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if Membership.objects.filter(tenant=self.tenant, user__email__iexact=email).exists():
            raise forms.ValidationError(ALREADY_MEMBER)
        return email


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)


class WelcomeMailForm(PasswordResetForm):
    """The mail to someone just added as a member: the password reset mail (same token, same
    link) with the welcome subject and text. Built for one new user, never from input."""

    def __init__(self, user: User) -> None:
        super().__init__(data={"email": user.email})
        self.user = user

    def get_users(self, email: str) -> Iterator[User]:
        # The stock hook skips users without a usable password, and a new member has none yet.
        yield self.user

    def send(self, request: HttpRequest) -> None:
        self.is_valid()  # save() reads the address from cleaned_data
        self.save(
            request=request,
            use_https=request.is_secure(),
            subject_template_name="registration/welcome_subject.txt",
            email_template_name="registration/welcome_email.html",
        )
