"""What the webhook actions that ask for a re-authentication protect, for its page's heading
("Confirm it is you to reveal the signing secret of https://erp.example/hooks");
accounts.reauth.purpose_register. Each names only an endpoint of a tenant the user belongs to."""

import uuid
from collections.abc import Mapping

from django.http import HttpRequest

from accounts.purpose_registry import purpose_register
from tenants.purposes import tenant_of

from .models import Endpoint


def _endpoint(request: HttpRequest, params: Mapping[str, str]) -> Endpoint | None:
    try:
        public_id = uuid.UUID(params.get("endpoint_id", ""))
    except ValueError:
        return None
    return Endpoint.objects.filter(
        tenant__code=params.get("code", ""), tenant__memberships__user=request.user, public_id=public_id
    ).first()


def _on_endpoint(text: str):
    def describe(request, params):
        endpoint = _endpoint(request, params)
        return text.format(url=endpoint.url) if endpoint else None

    return describe


def register() -> None:
    def create(request, params):
        tenant = tenant_of(request, params)
        return f"add a webhook endpoint to {tenant.name}" if tenant else None

    purpose_register("webhooks:create", create)
    # The Webhooks page and an endpoint's page are free to read but show their forms locked,
    # linking to the re-authentication page back to themselves (templates/_reauth_lock.html).
    purpose_register("webhooks:list", create, page=True)
    purpose_register("webhooks:detail", _on_endpoint("change the webhook endpoint {url}"), page=True)
    purpose_register("webhooks:edit", _on_endpoint("change the webhook endpoint {url}"))
    purpose_register("webhooks:secret", _on_endpoint("reveal the signing secret of {url}"))
    purpose_register("webhooks:rotate", _on_endpoint("rotate the signing secret of {url}"))
    purpose_register("webhooks:delete", _on_endpoint("remove the webhook endpoint {url}"))
