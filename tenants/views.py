"""The Tenant List (and adding a tenant), the way home, the Members page with what admins do
from it (invite a member, resend or cancel an invitation, change a role, remove a member), and
the public page an invitation link opens."""

import logging
from urllib.parse import urlencode
from uuid import UUID

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.db.models import Exists, F, OuterRef
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from accounts.reauth import proof_record, reauthentication_needed, recent_auth_required, recently_authenticated
from activity.audit import Audit
from kernel.net import client_ip

from . import limits, services
from .access import membership_for, require_role
from .forms import (
    ALREADY_INVITED,
    CODE_TAKEN,
    AcceptPasswordForm,
    MemberAddForm,
    MemberRoleForm,
    TenantCreateForm,
    TenantPolicyForm,
)
from .grants import Powers, RoleGrantRefused, person_powers
from .lists import tenant_list_annotations
from .models import Invitation, Membership, Role, Tenant

logger = logging.getLogger(__name__)
MAIL_FAILED = gettext_noop("The invitation mail could not be sent, so nothing was changed. Try again later.")


def home(request: HttpRequest) -> HttpResponse:
    """Where a login lands (LOGIN_REDIRECT_URL): a user with one tenant on its keys; else the
    last tenant the user opened, else the Tenant List."""
    memberships = list(
        Membership.objects.filter(user=request.user)
        .select_related("tenant")
        .order_by(F("last_visited_at").desc(nulls_last=True), "tenant__code")[:2]
    )
    if len(memberships) == 1 or (memberships and memberships[0].last_visited_at is not None):
        return redirect("apikeys:list", code=memberships[0].tenant.code)
    return redirect("tenants:list")


def _render_tenant_list(request: HttpRequest, form: TenantCreateForm, status: int) -> HttpResponse:
    memberships = (
        Membership.objects.filter(user=request.user)
        .select_related("tenant")
        # Counts only (the keys app's, through tenants.lists): a tenant may hold thousands of
        # keys, which the keys page finds.
        .annotate(**tenant_list_annotations())
        .order_by("tenant__code")
    )
    context = {
        "memberships": memberships,
        "form": form if limits.may_create_tenants(request.user) else None,
        "mfa_enabled": is_mfa_enabled(request.user),
    }
    return render(request, "tenants/tenant_list.html", context, status=status)


def _limited(response: HttpResponse, error: limits.LimitReached) -> HttpResponse:
    """A page answering 429 for an hourly limit, with Retry-After."""
    response["Retry-After"] = str(error.wait)
    return response


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
        form.add_error("code", gettext(CODE_TAKEN))
        return None
    return tenant


@require_http_methods(["GET", "POST"])
def tenant_list(request: HttpRequest) -> HttpResponse:
    """The user's tenants and, for those TENANT_CREATORS lets add one, the Add tenant form;
    POST adds a tenant (403 for others; 429 past the hourly limit)."""
    # Bound on every POST, even an empty one, so that it gets its "required" errors.
    form = TenantCreateForm(request.POST if request.method == "POST" else None)
    if not form.is_bound:
        return _render_tenant_list(request, form, status=200)
    if not limits.may_create_tenants(request.user):
        raise PermissionDenied(gettext("You may not add tenants here: ask the portal's staff."))
    if form.is_valid():
        try:
            limits.tenant_creation_count(request.user)
        except limits.LimitReached as error:
            form.add_error(None, str(error))
            return _limited(_render_tenant_list(request, form, status=429), error)
    tenant = _tenant_create(request, form) if form.is_valid() else None
    if tenant is None:
        return _render_tenant_list(request, form, status=400)
    messages.success(
        request,
        gettext("Tenant %(code)s created with its Emporix API and Storefront API keys.") % {"code": tenant.code},
    )
    return redirect("apikeys:list", code=tenant.code)


def _powers(request: HttpRequest, membership: Membership) -> Powers:
    """What the person may give (tenants.grants): by their role and a recent re-authentication."""
    return person_powers(membership.role, reauthenticated=recently_authenticated(request))


def _members_page(request: HttpRequest, code: str, **kwargs) -> str:
    """Where the Members page's POSTs return after a re-authentication."""
    return reverse("tenants:members", kwargs={"code": code})


def _render_members(
    request: HttpRequest,
    membership: Membership,
    form: MemberAddForm | None,
    status: int,
    policy_form: TenantPolicyForm | None = None,
    refusal: dict | None = None,
) -> HttpResponse:
    """The Members page. `refusal`: a role change or resend that was refused, shown at its row
    ({"member": pk, "role": the role asked for} or {"invitation": public_id}, and "message")."""
    tenant = membership.tenant
    # Who has a second factor, for all members in the same query (recovery codes alone are none).
    has_mfa = Authenticator.objects.filter(user=OuterRef("user")).exclude(type=Authenticator.Type.RECOVERY_CODES)
    members = (
        Membership.objects.filter(tenant=tenant)
        .select_related("user")
        .annotate(has_mfa=Exists(has_mfa))
        .order_by("user__email")
    )
    if policy_form is None and membership.is_admin:
        policy_form = TenantPolicyForm(
            initial={name: getattr(tenant, name) for name in services.POLICY_FIELDS}, user=request.user
        )
    invitations = (
        Invitation.objects.filter(tenant=tenant).select_related("invited_by", "invited_by_key")
        if membership.is_admin
        else []
    )
    return render(
        request,
        "tenants/member_list.html",
        {
            "membership": membership,
            "tenant": tenant,
            "members": members,
            "invitations": invitations,
            "invitation_days": settings.INVITATION_LIFETIME_DAYS,
            "form": form,
            "policy_form": policy_form,
            "roles": Role.choices,
            "active_tab": "members",
            "refusal": refusal or {},
        },
        status=status,
    )


@require_GET
def member_list(request: HttpRequest, code: str) -> HttpResponse:
    """Who has access to the tenant, for every member; admins also get the pending
    invitations and the forms to invite members, change roles and remove members."""
    membership = membership_for(request, code)
    form = MemberAddForm(tenant=membership.tenant) if membership.is_admin else None
    return _render_members(request, membership, form, status=200)


def _accept_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("tenants:invitation_accept"))


def _invitation_send(
    request: HttpRequest, form: MemberAddForm, membership: Membership
) -> tuple[Invitation | None, int]:
    """Invite the person; (None, status), with the error on the form, if the inviter may not
    give the role, if another request invited them between the form's check and the write, or
    if the mail could not be sent."""
    try:
        invitation = services.invitation_send(
            tenant=form.tenant,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            accept_url=_accept_url(request),
            audit=Audit.of(request),
            grantor=_powers(request, membership),
        )
    except RoleGrantRefused as refused:
        form.add_error("role", str(refused))
        return None, 400
    except IntegrityError:
        form.add_error("email", gettext(ALREADY_INVITED))
        return None, 400
    except services.MAIL_ERRORS as exc:
        logger.warning("Invitation mail not sent: %s", type(exc).__name__)
        form.add_error(None, gettext(MAIL_FAILED))
        return None, 503
    return invitation, 302


@require_POST
@recent_auth_required(form_page=_members_page)
def tenant_policy(request: HttpRequest, code: str) -> HttpResponse:
    """The tenant's policy: two-factor authentication of its members (the admin turning it on
    must have it, else the form says so, 400) and key hygiene (lifetimes, dormant keys)."""
    membership = require_role(membership_for(request, code), Role.ADMIN)
    form = TenantPolicyForm(request.POST, user=request.user)
    if not form.is_valid():
        add_form = MemberAddForm(tenant=membership.tenant)
        return _render_members(request, membership, add_form, status=400, policy_form=form)
    require_mfa = form.cleaned_data["require_mfa"]
    mfa_before = membership.tenant.require_mfa
    services.tenant_policy_change(
        tenant=membership.tenant,
        audit=Audit.of(request),
        **{name: form.cleaned_data[name] for name in services.POLICY_FIELDS},
    )
    if require_mfa and not mfa_before:
        messages.success(
            request,
            gettext("%(tenant)s now requires two-factor authentication of its members.")
            % {"tenant": membership.tenant.name},
        )
    elif mfa_before and not require_mfa:
        messages.success(
            request,
            gettext("%(tenant)s no longer requires two-factor authentication.") % {"tenant": membership.tenant.name},
        )
    else:
        messages.success(request, gettext("The policy of %(tenant)s is saved.") % {"tenant": membership.tenant.name})
    return redirect("tenants:members", code=code)


@require_POST
@recent_auth_required(form_page=_members_page)
def member_add(request: HttpRequest, code: str) -> HttpResponse:
    """Invite someone by e-mail with a role. The answer is the same whether or not the address
    has an account; invalid input re-renders the Members page with the errors."""
    membership = require_role(membership_for(request, code), Role.ADMIN)
    form = MemberAddForm(request.POST, tenant=membership.tenant)
    if form.is_valid():
        try:
            limits.invitation_count(tenant=membership.tenant, sender=f"user:{request.user.pk}")
        except limits.LimitReached as error:
            form.add_error(None, str(error))
            return _limited(_render_members(request, membership, form, status=429), error)
    invitation, status = _invitation_send(request, form, membership) if form.is_valid() else (None, 400)
    if invitation is None:
        return _render_members(request, membership, form, status=status)
    messages.success(request, gettext("Invitation sent to %(email)s.") % {"email": invitation.email})
    return redirect("tenants:members", code=code)


def _invitation_of(request: HttpRequest, code: str, invitation_id: UUID) -> tuple[Membership, Invitation]:
    """The admin's membership and one of the tenant's invitations."""
    membership = require_role(membership_for(request, code), Role.ADMIN)
    invitation = get_object_or_404(
        Invitation.objects.select_related("tenant"), tenant=membership.tenant, public_id=invitation_id
    )
    return membership, invitation


@require_POST
@recent_auth_required(form_page=_members_page)
def invitation_resend(request: HttpRequest, code: str, invitation_id: UUID) -> HttpResponse:
    """Mail the invitation again with a new link and expiry; the old link stops working. The
    admin resending it becomes its sender, whose powers accepting it checks."""
    membership, invitation = _invitation_of(request, code, invitation_id)
    try:
        limits.invitation_count(tenant=invitation.tenant, sender=f"user:{request.user.pk}")
    except limits.LimitReached as error:
        messages.error(request, str(error))
        return _limited(_render_members(request, membership, MemberAddForm(tenant=membership.tenant), 429), error)
    try:
        services.invitation_resend(
            invitation=invitation,
            accept_url=_accept_url(request),
            audit=Audit.of(request),
            grantor=_powers(request, membership),
        )
    except RoleGrantRefused as refused:
        add_form = MemberAddForm(tenant=membership.tenant)
        refusal = {"invitation": invitation.public_id, "message": str(refused)}
        return _render_members(request, membership, add_form, status=400, refusal=refusal)
    except services.MAIL_ERRORS as exc:
        logger.warning("Invitation mail not sent: %s", type(exc).__name__)
        messages.error(request, gettext(MAIL_FAILED))
    else:
        messages.success(request, gettext("Invitation sent to %(email)s again.") % {"email": invitation.email})
    return redirect("tenants:members", code=code)


@require_POST
@recent_auth_required(form_page=_members_page)
def invitation_cancel(request: HttpRequest, code: str, invitation_id: UUID) -> HttpResponse:
    """Withdraw an invitation; its link stops working."""
    _, invitation = _invitation_of(request, code, invitation_id)
    services.invitation_cancel(invitation=invitation, audit=Audit.of(request))
    messages.success(request, gettext("Invitation to %(email)s cancelled.") % {"email": invitation.email})
    return redirect("tenants:members", code=code)


def _member_of(membership: Membership, member_id: int) -> Membership:
    return get_object_or_404(Membership.objects.select_related("user"), tenant=membership.tenant, pk=member_id)


@require_POST
@recent_auth_required(form_page=_members_page)
def member_role(request: HttpRequest, code: str, member_id: int) -> HttpResponse:
    """Change a member's role; the tenant keeps at least one admin."""
    membership = require_role(membership_for(request, code), Role.ADMIN)
    member = _member_of(membership, member_id)
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Choose a valid role."))
        return redirect("tenants:members", code=code)
    role = form.cleaned_data["role"]
    try:
        services.member_change_role(
            membership=member, role=role, audit=Audit.of(request), grantor=_powers(request, membership)
        )
    except RoleGrantRefused as refused:
        add_form = MemberAddForm(tenant=membership.tenant)
        refusal = {"member": member.pk, "role": role, "message": str(refused)}
        return _render_members(request, membership, add_form, status=400, refusal=refusal)
    except services.LastAdminError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, gettext("%(email)s is now %(role)s.") % {"email": member.user.email, "role": Role(role).label}
        )
    return redirect("tenants:members", code=code)


@require_http_methods(["GET", "POST"])
def member_remove(request: HttpRequest, code: str, member_id: int) -> HttpResponse:
    """GET asks for confirmation (the page behind the Members page's dialog); POST removes the
    member. The tenant keeps at least one admin. Who removes themselves goes back to the Tenant
    List."""
    membership = require_role(membership_for(request, code), Role.ADMIN)
    member = _member_of(membership, member_id)
    context = {"membership": membership, "tenant": membership.tenant, "member": member, "active_tab": "members"}
    if request.method == "GET":
        return render(request, "tenants/member_confirm_remove.html", context)
    # The GET (the confirmation) stays free; the removal needs a recent authentication.
    if reauth := reauthentication_needed(request, form_page=lambda request: request.path):
        return reauth
    try:
        services.member_remove(membership=member, audit=Audit.of(request), grantor=_powers(request, membership))
    except RoleGrantRefused as refused:
        return render(request, "tenants/member_confirm_remove.html", {**context, "problem": str(refused)}, status=400)
    except services.LastAdminError as exc:
        messages.error(request, str(exc))
        return redirect("tenants:members", code=code)
    messages.success(request, gettext("%(email)s removed from %(code)s.") % {"email": member.user.email, "code": code})
    if member.pk == membership.pk:
        return redirect("tenants:list")
    return redirect("tenants:members", code=code)


# --- Accepting an invitation: public, the token is the credential -------------------------


def _accept_page(
    request: HttpRequest, invitation: Invitation | None, token: str, status: int = 200, **context: object
) -> HttpResponse:
    response = render(
        request,
        "tenants/invitation_accept.html",
        {"invitation": invitation, "token": token, **context},
        status=status,
    )
    add_never_cache_headers(response)  # the page holds the token
    return response


def _login_url(token: str) -> str:
    """The login page, returning to this invitation after the login."""
    accept = f"{reverse('tenants:invitation_accept')}?{urlencode({'token': token})}"
    return f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': accept})}"


@login_not_required
@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest) -> HttpResponse:
    """The page an invitation link opens (?token=...). Logged in with the invited address: one
    POST accepts. Logged out with an account of that address: log in, then accept. No account
    (or one without a usable password yet): choose a password, and the POST creates the
    account and the membership together and logs in. Anyone else is refused. The token
    travels in the query string and the POST body, never in a path, so access logs (which
    hold paths only) never see it. An invitation whose sender can no longer give its role
    (tenants.grants.sender_powers) is refused, 403, and stays for an admin to resend."""
    token = (request.POST if request.method == "POST" else request.GET).get("token", "")[:200]
    invitation = services.invitation_for_token(token)
    if invitation is None:
        return _accept_page(request, None, "", status=404, problem=gettext(services.INVITATION_UNKNOWN))
    if invitation.is_expired:
        return _accept_page(request, invitation, "", status=410, problem=gettext(services.INVITATION_EXPIRED))
    # Said before anyone chooses a password for nothing; the acceptance checks it again.
    if refusal := services.invitation_refusal(invitation):
        return _accept_page(request, invitation, "", status=403, problem=refusal)
    user = request.user
    form = None
    if user.is_authenticated:
        if services.normalize_email(user.email) != invitation.email:
            problem = services.wrong_user_message(invitation, user)
            return _accept_page(request, invitation, token, status=403, problem=problem, wrong_user=True)
    else:
        user = User.objects.filter(email__iexact=invitation.email).first()
        if user is not None and user.has_usable_password():
            return _accept_page(request, invitation, token, login_url=_login_url(token))
        user = user or User(email=invitation.email)
        form = AcceptPasswordForm(user, request.POST if request.method == "POST" else None)
    if request.method == "GET" or (form is not None and not form.is_valid()):
        return _accept_page(request, invitation, token, status=200 if request.method == "GET" else 400, form=form)
    password = form.cleaned_data["new_password1"] if form is not None else None
    try:
        membership = services.invitation_accept(
            token=token, user=user, password=password, audit=Audit(actor=user, address=client_ip(request))
        )
    except services.InvitationUnbacked as exc:  # its sender lost the power since the page was shown
        return _accept_page(request, invitation, "", status=403, problem=str(exc))
    except services.InvitationError as exc:
        return _accept_page(request, None, "", status=409, problem=str(exc))
    except IntegrityError:  # an account of this address was created meanwhile
        return _accept_page(request, invitation, token, status=409, login_url=_login_url(token))
    if not request.user.is_authenticated:
        login(request, membership.user, backend=settings.AUTHENTICATION_BACKENDS[0])
        # The password chosen a moment ago is a fresh proof: the first reveal does not ask again.
        proof_record(request, membership.user)
    messages.success(
        request,
        gettext("Welcome to %(tenant)s: you are %(role)s.")
        % {"tenant": membership.tenant.name, "role": membership.get_role_display()},
    )
    return redirect("apikeys:list", code=membership.tenant.code)
