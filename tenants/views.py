"""The Tenant List (and adding a tenant), the way home, and the Members page with what admins
do from it: add a member, change a role, remove a member."""

from django.contrib import messages
from django.db import IntegrityError
from django.db.models import Count, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from activity.audit import Audit
from apikeys.models import ApiKey

from . import services
from .access import membership_for, require_role
from .forms import ALREADY_MEMBER, CODE_TAKEN, MemberAddForm, MemberRoleForm, TenantCreateForm, WelcomeMailForm
from .models import Membership, Role, Tenant


def home(request: HttpRequest) -> HttpResponse:
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


def _render_tenant_list(request: HttpRequest, form: TenantCreateForm, status: int) -> HttpResponse:
    memberships = (
        Membership.objects.filter(user=request.user)
        .select_related("tenant")
        .annotate(key_count=Count("tenant__apikeys"))
        .prefetch_related(Prefetch("tenant__apikeys", queryset=ApiKey.objects.order_by("kind", "name")))
    )
    return render(request, "tenants/tenant_list.html", {"memberships": memberships, "form": form}, status=status)


def _tenant_create(request: HttpRequest, form: TenantCreateForm) -> Tenant | None:
    """Create the tenant with its keys; None, with the error on the form, if another request
    took the code between the form's check and the write."""
    try:
        tenant, _ = services.tenant_create(
            code=form.cleaned_data["code"],
            name=form.cleaned_data["name"],
            creator=request.user,
            audit=Audit.of(request),
        )
    except IntegrityError:
        form.add_error("code", CODE_TAKEN)
        return None
    return tenant


@require_http_methods(["GET", "POST"])
def tenant_list(request: HttpRequest) -> HttpResponse:
    """The user's tenants and the Add tenant form; POST adds a tenant."""
    # Bound on every POST, even an empty one, so that it gets its "required" errors.
    form = TenantCreateForm(request.POST if request.method == "POST" else None)
    if not form.is_bound:
        return _render_tenant_list(request, form, status=200)
    tenant = _tenant_create(request, form) if form.is_valid() else None
    if tenant is None:
        return _render_tenant_list(request, form, status=400)
    messages.success(request, f"Tenant {tenant.code} created with its Emporix API and Storefront API keys.")
    return redirect("apikeys:list", code=tenant.code)


def _render_members(
    request: HttpRequest, membership: Membership, form: MemberAddForm | None, status: int
) -> HttpResponse:
    tenant = membership.tenant
    members = Membership.objects.filter(tenant=tenant).select_related("user").order_by("user__email")
    return render(
        request,
        "tenants/member_list.html",
        {
            "membership": membership,
            "tenant": tenant,
            "members": members,
            "form": form,
            "roles": Role.choices,
            "active_tab": "members",
        },
        status=status,
    )


@require_GET
def member_list(request: HttpRequest, code: str) -> HttpResponse:
    """Who has access to the tenant, for every member; admins also get the forms to add
    members, change roles and remove members."""
    membership = membership_for(request, code)
    form = MemberAddForm(tenant=membership.tenant) if membership.is_admin else None
    return _render_members(request, membership, form, status=200)


def _member_add(request: HttpRequest, form: MemberAddForm) -> tuple[Membership, bool] | None:
    """Add the member; None, with the error on the form, if another request added the same
    person between the form's check and the write."""
    try:
        return services.member_add(
            tenant=form.tenant,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            audit=Audit.of(request),
        )
    except IntegrityError:
        form.add_error("email", ALREADY_MEMBER)
        return None


@require_POST
def member_add(request: HttpRequest, code: str) -> HttpResponse:
    """Add someone by e-mail with a role; someone new gets a mail with a link to choose a
    password. Invalid input re-renders the Members page with the errors."""
    membership = require_role(membership_for(request, code), Role.ADMIN)
    form = MemberAddForm(request.POST, tenant=membership.tenant)
    added = _member_add(request, form) if form.is_valid() else None
    if added is None:
        return _render_members(request, membership, form, status=400)
    member, created = added
    if created:
        WelcomeMailForm(member.user).send(request)
    told = " and sent a link to choose a password." if created else "."
    messages.success(request, f"{member.user.email} added as {member.get_role_display()}{told}")
    return redirect("tenants:members", code=code)


def _member_of(membership: Membership, member_id: int) -> Membership:
    return get_object_or_404(Membership.objects.select_related("user"), tenant=membership.tenant, pk=member_id)


@require_POST
def member_role(request: HttpRequest, code: str, member_id: int) -> HttpResponse:
    """Change a member's role; the tenant keeps at least one admin."""
    membership = require_role(membership_for(request, code), Role.ADMIN)
    member = _member_of(membership, member_id)
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a valid role.")
        return redirect("tenants:members", code=code)
    role = form.cleaned_data["role"]
    try:
        services.member_change_role(membership=member, role=role, audit=Audit.of(request))
    except services.LastAdminError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{member.user.email} is now {Role(role).label}.")
    return redirect("tenants:members", code=code)


@require_POST
def member_remove(request: HttpRequest, code: str, member_id: int) -> HttpResponse:
    """Remove a member; the tenant keeps at least one admin. Who removes themselves goes back
    to the Tenant List."""
    membership = require_role(membership_for(request, code), Role.ADMIN)
    member = _member_of(membership, member_id)
    try:
        services.member_remove(membership=member, audit=Audit.of(request))
    except services.LastAdminError as exc:
        messages.error(request, str(exc))
        return redirect("tenants:members", code=code)
    messages.success(request, f"{member.user.email} removed from {code}.")
    if member.pk == membership.pk:
        return redirect("tenants:list")
    return redirect("tenants:members", code=code)
