"""The tenant admins' forms of single sign-on, and the public "Sign in with SSO" form."""

import re
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, gettext_lazy

from tenants.models import Membership, Role

from . import addresses
from .models import Connection, MfaPolicy, Protocol

# A DNS name of at least two labels, lowercase letters, digits and hyphens (IDNs as punycode).
DOMAIN_RE = re.compile(r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def _lines(value: str) -> list[str]:
    """One name per line (or separated by commas), blanks and repeats dropped, order kept."""
    names = [name.strip() for line in value.splitlines() for name in line.split(",")]
    return list(dict.fromkeys(name for name in names if name))


class LinesField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 2})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def clean(self, value):
        names = _lines(super().clean(value) or "")
        if any(len(name) > 200 for name in names):
            raise ValidationError(gettext("Each name is at most 200 characters."))
        if len(names) > 50:
            raise ValidationError(gettext("At most 50 names."))
        return names


class ConnectionForm(forms.Form):
    """The tenant's identity provider: OpenID Connect (the client secret is write-only: left
    empty, the stored one stays) or SAML 2.0 (the IdP's metadata, from its URL or pasted, read
    and checked when saved)."""

    protocol = forms.ChoiceField(
        label=gettext_lazy("Protocol"),
        choices=Protocol.choices,
        widget=forms.RadioSelect,
        initial=Protocol.OIDC,
        required=False,
    )
    is_enabled = forms.BooleanField(
        label=gettext_lazy("Members can sign in through this provider"), required=False, initial=True
    )
    issuer_url = forms.URLField(
        label=gettext_lazy("Issuer URL (OpenID Connect)"),
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text=gettext_lazy(
            "The provider's issuer, e.g. https://login.example.com/realms/acme: the portal reads "
            "<code>/.well-known/openid-configuration</code> under it."
        ),
    )
    client_id = forms.CharField(label=gettext_lazy("Client ID (OpenID Connect)"), max_length=255, required=False)
    client_secret = forms.CharField(
        label=gettext_lazy("Client secret (OpenID Connect)"),
        max_length=1000,
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=gettext_lazy("Stored encrypted and never shown again. Leave empty to keep the stored secret."),
    )
    scopes = forms.CharField(
        label=gettext_lazy("Scopes (OpenID Connect)"),
        max_length=300,
        required=False,
        initial="openid email profile",
        help_text=gettext_lazy("Separated by spaces; must include openid."),
    )
    saml_metadata_url = forms.URLField(
        label=gettext_lazy("IdP metadata URL (SAML)"),
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text=gettext_lazy("Read when you save; save again to read it anew (a new signing certificate)."),
    )
    saml_metadata_xml = forms.CharField(
        label=gettext_lazy("IdP metadata XML (SAML)"),
        required=False,
        max_length=512 * 1024,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text=gettext_lazy("Paste it instead of a URL where the IdP publishes none."),
    )
    saml_entity_id = forms.CharField(
        label=gettext_lazy("IdP entity ID (SAML)"),
        max_length=500,
        required=False,
        help_text=gettext_lazy("Read from the metadata; name one only if the metadata describes several."),
    )
    email_claim = forms.CharField(
        label=gettext_lazy("E-mail claim or attribute"),
        max_length=200,
        initial="email",
        help_text=gettext_lazy(
            "SAML: the attribute's Name, e.g. email or urn:oid:0.9.2342.19200300.100.1.3; without it, "
            "a NameID of the emailAddress format."
        ),
    )
    groups_claim = forms.CharField(
        label=gettext_lazy("Groups claim or attribute"),
        max_length=200,
        required=False,
        initial="groups",
        help_text=gettext_lazy("Empty: groups are not read, everyone gets the default role."),
    )
    admin_groups = LinesField(
        label=gettext_lazy("Groups that make someone an admin"), required=False, help_text=gettext_lazy("One per line.")
    )
    developer_groups = LinesField(label=gettext_lazy("Groups that make someone a developer"), required=False)
    viewer_groups = LinesField(label=gettext_lazy("Groups that make someone a viewer"), required=False)
    default_role = forms.ChoiceField(
        label=gettext_lazy("Role of someone in none of these groups"),
        choices=[("", gettext_lazy("No access")), *Role.choices],
        required=False,
        initial=Role.VIEWER,
    )
    mfa_policy = forms.ChoiceField(
        label=gettext_lazy("Two-factor authentication"),
        choices=MfaPolicy.choices,
        widget=forms.RadioSelect,
        initial=MfaPolicy.PORTAL,
    )
    mfa_acr_values = LinesField(
        label=gettext_lazy("acr values (SAML: AuthnContextClassRef) that count as two-factor"),
        required=False,
        help_text=gettext_lazy("Besides amr values such as mfa, otp or hwk. One per line."),
    )

    def __init__(self, *args, connection: Connection | None = None, **kwargs) -> None:
        self.connection = connection
        super().__init__(*args, **kwargs)

    def clean_protocol(self) -> str:
        # Left out (a form or API client of before SAML): OpenID Connect.
        return self.cleaned_data["protocol"] or Protocol.OIDC

    def clean_issuer_url(self) -> str:
        url = self.cleaned_data["issuer_url"].rstrip("/")
        if not url:
            return url
        parts = urlsplit(url)
        if parts.query or parts.fragment:
            raise ValidationError(gettext("The issuer URL has no query or fragment."))
        # Plain HTTP only to this machine, with SSO_ALLOW_LOOPBACK (a provider under test).
        if parts.scheme != "https" and not (settings.SSO_ALLOW_LOOPBACK and parts.hostname in LOOPBACK_HOSTS):
            raise ValidationError(gettext("Use an https:// URL."))
        if not addresses.url_allowed(url, resolve=False):
            raise ValidationError(gettext("The portal does not reach this host: use the provider's public address."))
        return url

    def clean_scopes(self) -> str:
        scopes = list(dict.fromkeys(self.cleaned_data["scopes"].split()))
        if self.data.get(self.add_prefix("protocol")) == Protocol.SAML and not scopes:
            return ""
        if "openid" not in scopes:
            raise ValidationError(gettext("Include the openid scope."))
        if any(not re.fullmatch(r"[\x21\x23-\x5b\x5d-\x7e]+", scope) for scope in scopes):
            raise ValidationError(gettext("Scopes are printable characters without quotes or backslashes."))
        return " ".join(scopes)

    def clean_saml_metadata_url(self) -> str:
        url = self.cleaned_data["saml_metadata_url"]
        if url and not addresses.url_allowed(url, resolve=False):
            raise ValidationError(gettext("The portal does not reach this host: use the IdP's public https address."))
        return url

    def clean(self) -> dict:
        data = super().clean()
        if data.get("protocol") == Protocol.SAML:
            self._clean_saml(data)
        elif data.get("protocol") == Protocol.OIDC:
            self._clean_oidc(data)
        return data

    def _clean_oidc(self, data: dict) -> None:
        for name, message in (
            ("issuer_url", gettext("Enter the provider's issuer URL.")),
            ("client_id", gettext("Enter the client ID the provider gave you.")),
        ):
            if not data.get(name) and name not in self.errors:
                self.add_error(name, message)
        has_secret = self.connection is not None and bool(self.connection.secret_key_id)
        if not data.get("client_secret") and not has_secret:
            self.add_error("client_secret", gettext("Enter the client secret the provider gave you."))

    def _clean_saml(self, data: dict) -> None:
        """Read the metadata (from its URL when given, which wins over pasted XML) and keep
        the entity it describes."""
        from . import saml

        if "saml_metadata_url" in self.errors:
            return
        url, xml = data.get("saml_metadata_url"), data.get("saml_metadata_xml", "").strip()
        if not url and not xml:
            self.add_error("saml_metadata_url", gettext("Enter the IdP's metadata URL, or paste its metadata."))
            return
        try:
            xml = saml.metadata_fetch(url) if url else xml
            idp = saml.metadata_parse(xml, data.get("saml_entity_id", "").strip())
        except saml.MetadataError as exc:
            self.add_error("saml_metadata_url" if url else "saml_metadata_xml", str(exc))
            return
        data["saml_metadata_xml"] = xml
        data["saml_entity_id"] = idp["entity_id"]

    def settings(self) -> dict:
        """The connection's fields as the service takes them (the secret apart)."""
        data = dict(self.cleaned_data)
        data.pop("client_secret")
        return data


class EnforcementForm(forms.Form):
    required = forms.BooleanField(
        label=gettext_lazy("Members must sign in with SSO"),
        required=False,
        help_text=gettext_lazy("Their password and passkey logins no longer open this tenant's pages."),
    )
    exempt = forms.MultipleChoiceField(
        label=gettext_lazy("Break-glass admins"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "Admins who may still open the tenant with the portal's own login, for when the provider is down."
        ),
    )

    def __init__(self, *args, tenant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        admins = (
            Membership.objects.filter(tenant=tenant, role=Role.ADMIN).select_related("user").order_by("user__email")
        )
        self.fields["exempt"].choices = [(str(m.user_id), m.user.email) for m in admins]

    def clean_exempt(self) -> set[int]:
        return {int(value) for value in self.cleaned_data["exempt"]}


class DomainForm(forms.Form):
    domain = forms.CharField(
        label=gettext_lazy("E-mail domain"),
        max_length=253,
        help_text=gettext_lazy("The part after @ of your members' addresses, e.g. acme.com."),
    )

    def clean_domain(self) -> str:
        raw = self.cleaned_data["domain"].strip().lower().rstrip(".").removeprefix("@")
        try:
            domain = raw.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValidationError(gettext("Enter a domain name such as acme.com.")) from None
        if not DOMAIN_RE.match(domain):
            raise ValidationError(gettext("Enter a domain name such as acme.com."))
        return domain


class SsoStartForm(forms.Form):
    """Where a person says who they sign in for: their tenant's code or their work e-mail."""

    who = forms.CharField(
        label=gettext_lazy("Tenant code or work e-mail"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}),
    )

    def clean_who(self) -> str:
        return self.cleaned_data["who"].strip().lower()
