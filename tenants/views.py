from django.contrib import messages
from django.db import IntegrityError
from django.db.models import Count, Prefetch
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from apikeys.models import ApiKey

from .forms import TenantCreateForm
from .models import Membership
from .services import tenant_create


def home(request):
    """Back to the last tenant the user opened, else the Tenant List."""
    membership = (
        Membership.objects.filter(user=request.user)
        .select_related("tenant")
        .order_by("-last_visited_at", "tenant__code")
        .first()
    )
    if membership is not None and membership.last_visited_at is not None:
        return redirect("apikeys:list", code=membership.tenant.code)
    return redirect("tenants:list")


@require_http_methods(["GET", "POST"])
def tenant_list(request):
    form = TenantCreateForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                tenant, _ = tenant_create(
                    code=form.cleaned_data["code"],
                    name=form.cleaned_data["name"],
                    creator=request.user,
                    request=request,
                )
            except IntegrityError:
                # Lost a race for the same code with another request.
                form.add_error("code", "This tenant code is already taken.")
            else:
                messages.success(request, f"Tenant {tenant.code} created with its Emporix API and Storefront API keys.")
                return redirect(reverse("apikeys:list", kwargs={"code": tenant.code}))
        status = 400
    memberships = (
        Membership.objects.filter(user=request.user)
        .select_related("tenant")
        .annotate(key_count=Count("tenant__apikeys"))
        .prefetch_related(Prefetch("tenant__apikeys", queryset=ApiKey.objects.order_by("kind", "name")))
    )
    return render(request, "tenants/tenant_list.html", {"memberships": memberships, "form": form}, status=status)
