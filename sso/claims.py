"""What the identity provider said of a person, read the way the tenant configured it: the
e-mail address, the groups and the role they give, and whether the login used more than one
factor (RFC 8176 `amr` values, or the tenant's `acr` values; SAML: its AuthnContextClassRef)."""

from typing import Any

from tenants.models import ROLE_RANK, Role

from .models import Connection

EMAIL_NAMEID = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"

# Authentication methods (RFC 8176) that mean more than a password was used: "mfa" and "mca"
# say so outright; the others are a possession or biometric factor.
MFA_AMR = frozenset(
    {"mfa", "mca", "otp", "hwk", "swk", "sc", "sms", "tel", "pop", "fpt", "face", "iris", "retina", "vbm"}
)


def merged(extra_data: dict[str, Any]) -> dict[str, Any]:
    """The claims of a login as allauth keeps them (`userinfo` and the decoded `id_token`):
    the ID token's, with the userinfo's over them (the provider's fuller answer)."""
    claims = dict(extra_data.get("id_token") or {})
    claims.update(extra_data.get("userinfo") or {})
    # amr and acr describe this login: only the ID token states them.
    for name in ("amr", "acr"):
        if name in (extra_data.get("id_token") or {}):
            claims[name] = extra_data["id_token"][name]
    return claims


def saml_claims(connection: Connection, extra_data: dict[str, Any]) -> dict[str, Any]:
    """A SAML login's attributes as claims (each a list of values), its AuthnContextClassRef
    values as `acr`, and its NameID as the e-mail when the assertion has no e-mail attribute
    and the NameID's format says it is an address."""
    claims: dict[str, Any] = dict(extra_data.get("attributes") or {})
    if not claims.get(connection.email_claim) and extra_data.get("name_id_format") == EMAIL_NAMEID:
        claims[connection.email_claim] = [extra_data.get("name_id")]
    claims["acr"] = list(extra_data.get("authn_contexts") or [])
    return claims


def email_of(connection: Connection, claims: dict[str, Any]) -> str:
    value = claims.get(connection.email_claim or "email")
    if isinstance(value, list):  # a SAML attribute's values
        value = value[0] if value else None
    return value.strip().lower() if isinstance(value, str) else ""


def groups_of(connection: Connection, claims: dict[str, Any]) -> list[str]:
    """The person's groups: a list, or one string of names separated by commas or spaces."""
    if not connection.groups_claim:
        return []
    value = claims.get(connection.groups_claim)
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    if not isinstance(value, list):
        return []
    return [str(item) for item in value if isinstance(item, str | int)]


def role_for(connection: Connection, groups: list[str]) -> str | None:
    """The highest role any of `groups` gives, else the tenant's default role; None: no access."""
    found = set(groups)
    for role, names in (
        (Role.ADMIN, connection.admin_groups),
        (Role.DEVELOPER, connection.developer_groups),
        (Role.VIEWER, connection.viewer_groups),
    ):
        if found & set(names):
            return role.value
    return connection.default_role or None


def rank(role: str | None) -> int:
    return -1 if role is None else ROLE_RANK[Role(role)]


def used_mfa(connection: Connection, claims: dict[str, Any]) -> bool:
    """Whether the provider says this login used more than one factor."""
    amr = claims.get("amr")
    if isinstance(amr, list) and MFA_AMR & {str(value) for value in amr}:
        return True
    acr = claims.get("acr")
    values = acr if isinstance(acr, list) else [acr]
    return bool(set(connection.mfa_acr_values) & {value for value in values if isinstance(value, str)})
