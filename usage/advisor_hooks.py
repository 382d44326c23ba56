"""What the access advisor adds to the apps below it, from UsageConfig.ready(): a link on each
key's row of the keys list and one to the tenant's findings above it (apikeys.key_links) and the wording of "Narrow to what is used" on
the re-authentication page (accounts.purpose_registry)."""

from django.utils.translation import gettext_lazy

from accounts.purpose_registry import purpose_register, worded
from apikeys.key_links import key_link_add, tenant_link_add
from apikeys.models import ApiKey
from tenants.purposes import found_in_tenant


def register() -> None:
    key_link_add(
        "access_advisor", "advisor:key", gettext_lazy("Access advisor"), gettext_lazy("Access advisor for {0}")
    )
    tenant_link_add("advisor:findings", gettext_lazy("Access advisor: unused keys and scopes"))
    purpose_register(
        "advisor:narrow",
        worded(found_in_tenant(ApiKey, "key_id"), gettext_lazy("narrow {0.name} to the scopes it uses")),
    )
