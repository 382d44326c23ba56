from django import forms

from .models import Membership, Role, Tenant, validate_tenant_code


class TenantCreateForm(forms.Form):
    code = forms.CharField(
        label="Tenant code",
        max_length=16,
        help_text="3 to 16 lowercase letters and digits, starting with a letter. It cannot be changed later.",
        validators=[validate_tenant_code],
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "pattern": "[a-z][a-z0-9]{2,15}"}),
    )
    name = forms.CharField(label="Display name", max_length=100)

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        if Tenant.objects.filter(code=code).exists():
            raise forms.ValidationError("This tenant code is already taken.", code="taken")
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
            raise forms.ValidationError("This person is already a member of the tenant.")
        return email


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)
