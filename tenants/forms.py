from django import forms

from .models import Tenant, validate_tenant_code


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
