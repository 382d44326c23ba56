from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from kernel.net import api_base_url, public_base_url
from tenants.access import membership_for

from ..auth import held_scope_names
from ..models import ApiKey
from ..samples import build_samples
from ..scope_summary import NO_OPERATION_NOTE, scope_summary


@require_GET
def get_started(request: HttpRequest, code: str, key_id) -> HttpResponse:
    """Sample requests for one key, for every member. The secret is masked in them; the Copy
    button of an admin or developer fetches it by POST (see get-started.js)."""
    membership = membership_for(request, code)
    key = get_object_or_404(ApiKey.objects.select_related("tenant"), tenant=membership.tenant, public_id=key_id)
    return render(
        request,
        "apikeys/key_get_started.html",
        {
            "membership": membership,
            "tenant": membership.tenant,
            "active_tab": "keys",
            "key": key,
            "samples": build_samples(key, base_url=public_base_url(request), api_base_url=api_base_url()),
            "can_see_secrets": membership.can_see_secrets,
        },
    )


@require_GET
def key_scopes(request: HttpRequest, code: str, key_id) -> HttpResponse:
    """What a key can do, for every member: its scopes by service, each with the operations of
    the route table it opens, and per service the operations they open together (the keys
    page's card shows the same without the operations, to stay small)."""
    membership = membership_for(request, code)
    key = get_object_or_404(ApiKey.objects.select_related("tenant"), tenant=membership.tenant, public_id=key_id)
    return render(
        request,
        "apikeys/key_scopes.html",
        {
            "membership": membership,
            "tenant": membership.tenant,
            "active_tab": "keys",
            "key": key,
            "scopes": scope_summary(held_scope_names(key)),
            "no_operation_note": NO_OPERATION_NOTE,
        },
    )
