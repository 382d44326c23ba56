from django.contrib import messages
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import IntegrityError
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.views.decorators.http import require_http_methods, require_POST

from activity.audit import Audit
from apikeys.models import ApiKey

from .access import membership_for, require_role
from .forms import MemberAddForm, MemberRoleForm, TenantCreateForm
from .models import Membership, Role
from .services import LastAdminError, member_add, member_change_role, member_remove, tenant_create


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
                    audit=Audit.of(request),
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


def _send_welcome(request, user) -> None:
    """A new member gets a link to choose a password. (PasswordResetForm skips users without
    a usable password, so the link is made here with the same token generator.)"""
    context = {
        "email": user.email,
        "domain": request.get_host(),
        "protocol": "https" if request.is_secure() else "http",
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
    }
    subject = render_to_string("registration/welcome_subject.txt", context).strip()
    send_mail(subject, render_to_string("registration/welcome_email.html", context), None, [user.email])


@require_http_methods(["GET", "POST"])
def member_list(request, code: str):
    """Members of a tenant: everyone may see who has access; admins add, change and remove."""
    membership = membership_for(request, code)
    tenant = membership.tenant
    form = None
    status = 200
    if membership.is_admin:
        form = MemberAddForm(request.POST or None, tenant=tenant)
        if request.method == "POST":
            if form.is_valid():
                try:
                    added, created = member_add(
                        tenant=tenant,
                        email=form.cleaned_data["email"],
                        role=form.cleaned_data["role"],
                        audit=Audit.of(request),
                    )
                except IntegrityError:
                    form.add_error("email", "This person is already a member of the tenant.")
                else:
                    if created:
                        _send_welcome(request, added.user)
                    messages.success(
                        request,
                        f"{added.user.email} added as {added.get_role_display()}"
                        + (" and sent a link to choose a password." if created else "."),
                    )
                    return redirect("tenants:members", code=code)
            status = 400
    elif request.method == "POST":
        require_role(membership, Role.ADMIN)
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


def _member_of(membership: Membership, member_id: int) -> Membership:
    return get_object_or_404(Membership.objects.select_related("user"), tenant=membership.tenant, pk=member_id)


@require_POST
def member_role(request, code: str, member_id: int):
    membership = require_role(membership_for(request, code), Role.ADMIN)
    member = _member_of(membership, member_id)
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a valid role.")
        return redirect("tenants:members", code=code)
    try:
        member_change_role(membership=member, role=form.cleaned_data["role"], audit=Audit.of(request))
    except LastAdminError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{member.user.email} is now {Role(form.cleaned_data['role']).label}.")
    return redirect("tenants:members", code=code)


@require_POST
def member_remove_view(request, code: str, member_id: int):
    membership = require_role(membership_for(request, code), Role.ADMIN)
    member = _member_of(membership, member_id)
    try:
        member_remove(membership=member, audit=Audit.of(request))
    except LastAdminError as exc:
        messages.error(request, str(exc))
        return redirect("tenants:members", code=code)
    messages.success(request, f"{member.user.email} removed from {code}.")
    if member.pk == membership.pk:
        return redirect("tenants:list")
    return redirect("tenants:members", code=code)
