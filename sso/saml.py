"""SAML 2.0 for a tenant's connection, through django-allauth's `saml` provider (python3-saml):
the IdP's metadata read and checked when an admin saves it, the allauth app built from the
stored metadata, and the portal's own service-provider URLs to give the IdP.

The metadata is fetched by the portal (through sso.addresses: public https addresses only) when
the connection is saved, and kept in the row; allauth's own fetch of a metadata URL is not used,
since it reaches any address and keeps the answer in the shared cache."""

from typing import Any

from allauth.socialaccount.providers.saml.provider import SAMLProvider
from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext
from onelogin.saml2.constants import OneLogin_Saml2_Constants
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

from . import addresses
from .models import Connection, SamlApp

# The largest metadata document read (an IdP's describes one entity; a federation's, which
# this is not for, runs to megabytes).
METADATA_MAX_BYTES = 512 * 1024
SUBJECT_ID = "urn:oasis:names:tc:SAML:attribute:subject-id"


class MetadataError(ValueError):
    """Metadata that cannot be read or used; the message is for the admin."""


def metadata_fetch(url: str) -> str:
    """The IdP's metadata document at `url`, from an address the portal may reach."""
    session = addresses.CheckedSession()
    try:
        with session.get(url, timeout=settings.SOCIALACCOUNT_REQUESTS_TIMEOUT, stream=True) as response:
            response.raise_for_status()
            body = response.raw.read(METADATA_MAX_BYTES + 1, decode_content=True)
    except addresses.AddressRefused:
        raise MetadataError(gettext("The portal does not reach this host: use the IdP's public address.")) from None
    except Exception:  # requests' and urllib3's errors alike: the admin gets one answer
        raise MetadataError(gettext("The metadata URL could not be read.")) from None
    if len(body) > METADATA_MAX_BYTES:
        raise MetadataError(gettext("The metadata is larger than 512 KB."))
    return body.decode("utf-8", "replace")


def metadata_parse(xml: str, entity_id: str = "") -> dict[str, str]:
    """The IdP's entity ID, single sign-on URL (HTTP-Redirect binding) and signing certificate,
    from its metadata (`entity_id` picks one where the document has several)."""
    try:
        parsed = OneLogin_Saml2_IdPMetadataParser.parse(
            xml.encode("utf-8"),
            entity_id=entity_id or None,
            required_sso_binding=OneLogin_Saml2_Constants.BINDING_HTTP_REDIRECT,
        )
    except Exception:  # lxml's syntax errors, python3-saml's own: one answer
        raise MetadataError(gettext("The metadata is not a SAML metadata document.")) from None
    idp = parsed.get("idp") or {}
    sso_url = (idp.get("singleSignOnService") or {}).get("url", "")
    certs = (idp.get("x509certMulti") or {}).get("signing") or [idp.get("x509cert")]
    if not idp.get("entityId"):
        raise MetadataError(
            gettext("The metadata describes no identity provider of that entity ID.")
            if entity_id
            else gettext("The metadata describes no identity provider.")
        )
    if not sso_url:
        raise MetadataError(gettext("The metadata has no single sign-on service with the HTTP-Redirect binding."))
    if not addresses.url_allowed(sso_url, resolve=False) or not sso_url.startswith(("https://", "http://")):
        raise MetadataError(gettext("The IdP's single sign-on URL is not a public https address."))
    if not certs or not certs[0]:
        raise MetadataError(gettext("The metadata has no signing certificate: the portal accepts signed answers only."))
    return {"entity_id": idp["entityId"], "sso_url": sso_url, "x509cert": certs[0]}


def app_for(connection: Connection) -> SamlApp | None:
    """The tenant's allauth SAML app, unsaved; None when its stored metadata no longer parses."""
    try:
        idp = metadata_parse(connection.saml_metadata_xml, connection.saml_entity_id)
    except MetadataError:
        return None
    mapping: dict[str, Any] = {"uid": [SUBJECT_ID], "email": [connection.email_claim]}
    return SamlApp(
        provider=SAMLProvider.id,
        provider_id=connection.provider_id,
        name=connection.tenant.name,
        client_id=connection.tenant.code,
        settings={
            "idp": idp,
            "attribute_mapping": mapping,
            "advanced": {
                # python3-saml's checks: the signature (of the response or the assertion) by the
                # metadata's certificate, the audience, the destination, the time window and
                # the status; an answer the portal did not ask for is refused.
                "strict": True,
                "reject_idp_initiated_sso": True,
                "want_attribute_statement": False,
                "reject_deprecated_algorithm": True,
                # The portal's own host may be one label (an intranet name; `testserver`).
                "allow_single_label_domains": True,
            },
        },
    )


def sp_urls(request: HttpRequest, code: str) -> dict[str, str]:
    """What a tenant's admin gives the IdP: the portal's metadata URL (also its entity ID) and
    its assertion consumer service URL (HTTP-POST)."""
    metadata = request.build_absolute_uri(reverse("saml_metadata", kwargs={"organization_slug": code}))
    return {
        "metadata_url": metadata,
        "entity_id": metadata,
        "acs_url": request.build_absolute_uri(reverse("saml_acs", kwargs={"organization_slug": code})),
    }


class TenantSamlProvider(SAMLProvider):
    """allauth's SAML provider, which also keeps the login's AuthnContextClassRef values and
    NameID (the tenant's MFA trust and e-mail fallback read them: sso.claims.saml_claims)."""

    def extract_extra_data(self, data) -> dict[str, Any]:
        return {
            "attributes": data.get_attributes(),
            "authn_contexts": data.get_last_authn_contexts(),
            "name_id": data.get_nameid(),
            "name_id_format": data.get_nameid_format(),
        }
