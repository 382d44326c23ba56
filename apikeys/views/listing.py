from django.db.models import Count, Prefetch
from django.http import Http404
from django.shortcuts import render

from tenants.access import membership_for

from ..models import ApiKey, ApiSecret, KeyKind


def key_list(request, code: str):
    """The Manage API Keys view: the tenant's keys grouped by kind. No secret is in it."""
    membership = membership_for(request, code)
    keys = list(
        ApiKey.objects.filter(tenant=membership.tenant)
        .annotate(chosen_scope_count=Count("scopes"))
        .prefetch_related(Prefetch("secrets", queryset=ApiSecret.objects.live().defer("ciphertext", "digest")))
        .order_by("created_at")
    )
    groups = [(kind, [key for key in keys if key.kind == kind]) for kind in KeyKind]
    return render(
        request,
        "apikeys/key_list.html",
        {"membership": membership, "tenant": membership.tenant, "groups": groups},
    )


def secret_show(request, code: str, key_id):
    raise Http404("Not built yet.")


def key_renew(request, code: str, key_id):
    raise Http404("Not built yet.")


def secret_retire(request, code: str, key_id, secret_id):
    raise Http404("Not built yet.")
