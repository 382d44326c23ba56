"""Single sign-on over the management API: read and set the calling key's tenant's identity
provider (OpenID Connect or SAML 2.0). The same form and service as the tenant's SSO page (sso/): the
same rules, the same activity entries. The client secret is write-only. Who may set it: a key
with portal.member_manage (SSO decides who becomes a member), and only if the key could give
every role the settings hand out (tenants.grants), so that no key makes admins it could not."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from sso import saml, services
from sso.forms import ConnectionForm
from sso.models import ClaimedDomain, Connection, MfaPolicy, Protocol, ScimToken, provider_id_for
from tenants.grants import RoleGrantRefused, role_grant_check
from tenants.models import Membership, Role

from .base import PortalAPIView
from .grants import key_powers
from .problems import Problem
from .serializers import StrictBoolean, StrictSerializer, StrictString
from .views import MEMBER_MANAGE, MEMBER_READ, _checked, _valid


def _names() -> serializers.ListField:
    """Group names or acr values: a list of up to 50 strings."""
    return serializers.ListField(child=StrictString(max_length=200), max_length=50, required=False)


class SsoRequest(StrictSerializer):
    protocol = serializers.ChoiceField(choices=Protocol.choices, required=False, default=Protocol.OIDC)
    is_enabled = StrictBoolean(required=False, default=True)
    issuer_url = StrictString(max_length=500, required=False, default="", allow_blank=True, help_text="OpenID Connect.")
    client_id = StrictString(max_length=255, required=False, default="", allow_blank=True, help_text="OpenID Connect.")
    client_secret = StrictString(max_length=1000, required=False, write_only=True, help_text="OpenID Connect.")
    scopes = StrictString(max_length=300, required=False, default="openid email profile", help_text="OpenID Connect.")
    saml_metadata_url = StrictString(
        max_length=500,
        required=False,
        default="",
        allow_blank=True,
        help_text="SAML: the IdP's metadata URL, read when saved.",
    )
    saml_metadata_xml = StrictString(
        max_length=512 * 1024,
        required=False,
        default="",
        allow_blank=True,
        write_only=True,
        help_text="SAML: the IdP's metadata, where there is no URL.",
    )
    saml_entity_id = StrictString(
        max_length=500,
        required=False,
        default="",
        allow_blank=True,
        help_text="SAML: which entity of the metadata (when several).",
    )
    email_claim = StrictString(max_length=200, required=False, default="email")
    groups_claim = StrictString(max_length=200, required=False, default="groups", allow_blank=True)
    admin_groups = _names()
    developer_groups = _names()
    viewer_groups = _names()
    default_role = serializers.ChoiceField(choices=[("", "No access"), *Role.choices], required=False, default="viewer")
    mfa_policy = serializers.ChoiceField(choices=MfaPolicy.choices, required=False, default=MfaPolicy.PORTAL)
    mfa_acr_values = _names()


class Domain(serializers.Serializer):
    domain = serializers.CharField()
    verified = serializers.BooleanField(source="is_verified")
    verified_by = serializers.CharField()
    txt_name = serializers.CharField()
    txt_record = serializers.CharField()


class ServiceProvider(serializers.Serializer):
    """What a SAML IdP is given: the portal's metadata URL (its entity ID too) and its ACS."""

    metadata_url = serializers.URLField()
    entity_id = serializers.CharField()
    acs_url = serializers.URLField()


class Scim(serializers.Serializer):
    """The tenant's SCIM endpoint: its base URL, and whether a token is in use (the token is
    made and shown on the SSO page only)."""

    url = serializers.URLField()
    token_in_use = serializers.BooleanField()
    token_created_at = serializers.DateTimeField(allow_null=True)
    token_last_used_at = serializers.DateTimeField(allow_null=True)


class SsoOut(serializers.Serializer):
    configured = serializers.BooleanField()
    redirect_uri = serializers.URLField()
    saml_service_provider = ServiceProvider()
    scim = Scim()
    protocol = serializers.CharField(required=False)
    is_enabled = serializers.BooleanField(required=False)
    issuer_url = serializers.URLField(required=False)
    client_id = serializers.CharField(required=False)
    scopes = serializers.CharField(required=False)
    saml_metadata_url = serializers.CharField(required=False)
    saml_entity_id = serializers.CharField(required=False)
    email_claim = serializers.CharField(required=False)
    groups_claim = serializers.CharField(required=False)
    admin_groups = serializers.ListField(child=serializers.CharField(), required=False)
    developer_groups = serializers.ListField(child=serializers.CharField(), required=False)
    viewer_groups = serializers.ListField(child=serializers.CharField(), required=False)
    default_role = serializers.CharField(required=False)
    mfa_policy = serializers.CharField(required=False)
    mfa_acr_values = serializers.ListField(child=serializers.CharField(), required=False)
    updated_at = serializers.DateTimeField(required=False)
    required = serializers.BooleanField(help_text="Members must sign in through the provider.")
    exempt = serializers.ListField(child=serializers.EmailField(), help_text="Break-glass admins.")
    domains = Domain(many=True)


def _data(request: Request, tenant) -> dict:
    connection = Connection.objects.filter(tenant=tenant).first()
    token = ScimToken.objects.filter(tenant=tenant).first()
    data: dict = {
        "configured": connection is not None,
        "redirect_uri": request.build_absolute_uri(
            reverse("openid_connect_callback", kwargs={"provider_id": provider_id_for(tenant.code)})
        ),
        "saml_service_provider": saml.sp_urls(request, tenant.code),
        "scim": {
            "url": request.build_absolute_uri("/scim/v2"),
            "token_in_use": token is not None,
            "token_created_at": token.created_at if token else None,
            "token_last_used_at": token.last_used_at if token else None,
        },
        "required": tenant.sso_required,
        "exempt": list(
            Membership.objects.filter(tenant=tenant, sso_exempt=True)
            .order_by("user__email")
            .values_list("user__email", flat=True)
        ),
        "domains": ClaimedDomain.objects.filter(tenant=tenant),
    }
    if connection is not None:
        data.update({name: getattr(connection, name) for name in services.SETTINGS_FIELDS})
        data["updated_at"] = connection.updated_at
    return SsoOut(data).data


def _roles_given(settings: dict) -> set[str]:
    """Every role these settings can give someone."""
    fields = ((Role.ADMIN, "admin_groups"), (Role.DEVELOPER, "developer_groups"), (Role.VIEWER, "viewer_groups"))
    given = {role.value for role, field in fields if settings[field]}
    return given | ({settings["default_role"]} if settings["default_role"] else set())


class SsoDetail(PortalAPIView):
    """The tenant's single sign-on: its identity provider, whether members must use it, the
    break-glass admins and the claimed e-mail domains (set on the tenant's SSO page). PUT sets
    the provider: OpenID Connect (`client_secret` needed the first time, kept when left out
    after) or SAML 2.0 (the IdP's metadata URL, read when saved, or its metadata XML)."""

    required_scopes = {"GET": MEMBER_READ, "PUT": MEMBER_MANAGE}

    @extend_schema(operation_id="sso_read", summary="Read the tenant's single sign-on", responses={200: SsoOut})
    def get(self, request: Request) -> Response:
        return Response(_data(request, self.tenant))

    @extend_schema(
        operation_id="sso_update",
        summary="Set the tenant's identity provider (OpenID Connect or SAML 2.0)",
        request=SsoRequest,
        responses={200: SsoOut},
    )
    def put(self, request: Request) -> Response:
        data = _valid(SsoRequest, request)
        connection = Connection.objects.filter(tenant=self.tenant).first()
        # The page's form, its fields as the page posts them (names one per line).
        form_data = {name: "\n".join(value) if isinstance(value, list) else value for name, value in data.items()}
        form_data["is_enabled"] = "on" if data["is_enabled"] else ""
        settings = _checked(ConnectionForm(data=form_data, connection=connection))
        secret = settings.pop("client_secret")
        powers = key_powers(request.auth.scopes, self.tenant)
        try:
            for role in _roles_given(settings):
                role_grant_check(powers, role=role)
        except RoleGrantRefused as refused:
            raise Problem("role-escalation", str(refused)) from None
        services.connection_save(tenant=self.tenant, audit=self.audit, settings=settings, secret=secret)
        return Response(_data(request, self.tenant))
