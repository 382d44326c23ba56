"""What the webhook actions that ask for a re-authentication protect, for its page's heading
("Confirm it is you to reveal the signing secret of https://erp.example/hooks");
accounts.reauth.purpose_register. Each names only an endpoint of a tenant the user belongs to."""

from django.utils.translation import gettext_lazy

from accounts.purpose_registry import purpose_register, worded
from tenants.purposes import found_in_tenant, tenant_of

from .models import Endpoint

_endpoint = found_in_tenant(Endpoint, "endpoint_id")


def register() -> None:
    create = worded(tenant_of, gettext_lazy("add a webhook endpoint to {0.name}"))
    purpose_register("webhooks:create", create)
    # The Webhooks page and an endpoint's page are free to read but show their forms locked,
    # linking to the re-authentication page back to themselves (templates/_reauth_lock.html).
    purpose_register("webhooks:list", create, page=True)
    purpose_register(
        "webhooks:detail", worded(_endpoint, gettext_lazy("change the webhook endpoint {0.url}")), page=True
    )
    purpose_register("webhooks:edit", worded(_endpoint, gettext_lazy("change the webhook endpoint {0.url}")))
    purpose_register("webhooks:secret", worded(_endpoint, gettext_lazy("reveal the signing secret of {0.url}")))
    purpose_register("webhooks:rotate", worded(_endpoint, gettext_lazy("rotate the signing secret of {0.url}")))
    purpose_register("webhooks:delete", worded(_endpoint, gettext_lazy("remove the webhook endpoint {0.url}")))
