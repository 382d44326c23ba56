"""The tenant's Webhooks pages (admins only): endpoints, their signing secrets, the delivery log
and the test button. Every view starts with the tenant helper; the actions that create, show or
change a signing secret, or where events go, need a recent authentication (accounts.reauth).
The pages stay free to read, but without a recent authentication their forms (add an endpoint,
its settings) are shown locked, with a link to re-authenticate and come back: the user does so
before typing, not after (reauth_url in the templates)."""

from uuid import UUID

from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.reauth import reauthenticate_url, reauthentication_needed, recently_authenticated
from tenants.access import membership_for, require_role
from tenants.models import Membership, Role

from . import services
from .delivery import deliveries_claim, delivery_attempt
from .events import BY_CODE
from .forms import EndpointForm
from .heartbeat import delivery_status, worker_status
from .models import Attempt, Delivery, DeliveryStatus, Endpoint
from .outbox import endpoint_test_event

SHOW_ONCE_SESSION_KEY = "webhook_secret_show"  # which endpoint's secret to show once, never the secret
LOG_SIZE = 50


def _admin(request: HttpRequest, code: str) -> Membership:
    return require_role(membership_for(request, code), Role.ADMIN)


def _endpoint(membership: Membership, endpoint_id: UUID) -> Endpoint:
    return get_object_or_404(Endpoint, tenant=membership.tenant, public_id=endpoint_id)


def _detail_url(endpoint: Endpoint) -> str:
    return reverse("webhooks:detail", kwargs={"code": endpoint.tenant.code, "endpoint_id": endpoint.public_id})


def _reauth(request: HttpRequest, page: str) -> HttpResponse | None:
    return reauthentication_needed(request, form_page=lambda request, **kwargs: page)


def _lock(request: HttpRequest, page: str) -> str | None:
    """Where to re-authenticate before filling in the form of `page` (it comes back there),
    or None if the user authenticated recently and the form is open."""
    return None if recently_authenticated(request) else reauthenticate_url(request, page)


def _changing(request: HttpRequest, code: str, endpoint_id: UUID) -> tuple[Membership, Endpoint, HttpResponse | None]:
    """For a POST that shows or changes an endpoint's secret or settings: the admin's membership,
    the endpoint, and the re-authentication answer (back to the endpoint's page) if one is needed."""
    membership = _admin(request, code)
    endpoint = _endpoint(membership, endpoint_id)
    return membership, endpoint, _reauth(request, _detail_url(endpoint))


def _render_list(request: HttpRequest, membership: Membership, form: EndpointForm, status: int = 200) -> HttpResponse:
    endpoints = Endpoint.objects.filter(tenant=membership.tenant)
    return render(
        request,
        "webhooks/endpoint_list.html",
        {
            "membership": membership,
            "tenant": membership.tenant,
            "active_tab": "webhooks",
            "endpoints": [(e, [BY_CODE[c].label for c in e.event_types if c in BY_CODE]) for e in endpoints],
            "form": form,
            "delivery": delivery_status(membership.tenant),
            "reauth_url": _lock(
                request, reverse("webhooks:list", kwargs={"code": membership.tenant.code}) + "#add-heading"
            ),
        },
        status=status,
    )


@require_GET
def endpoint_list(request: HttpRequest, code: str) -> HttpResponse:
    """The tenant's endpoints and the form that adds one."""
    membership = _admin(request, code)
    return _render_list(request, membership, EndpointForm())


@require_POST
def endpoint_create(request: HttpRequest, code: str) -> HttpResponse:
    """Add an endpoint; its page then shows the new signing secret once."""
    membership = _admin(request, code)
    if reauth := _reauth(request, reverse("webhooks:list", kwargs={"code": code})):
        return reauth
    form = EndpointForm(request.POST)
    if not form.is_valid():
        return _render_list(request, membership, form, status=400)
    endpoint, _secret = services.endpoint_create(tenant=membership.tenant, **form.cleaned_data)
    request.session[SHOW_ONCE_SESSION_KEY] = str(endpoint.public_id)
    messages.success(request, gettext("Endpoint added. Copy its signing secret now: it is shown this once."))
    return redirect(_detail_url(endpoint))


def _render_detail(
    request: HttpRequest,
    membership: Membership,
    endpoint: Endpoint,
    form: EndpointForm,
    *,
    secret: str | None = None,
    status: int = 200,
) -> HttpResponse:
    deliveries = (
        Delivery.objects.filter(endpoint=endpoint)
        .select_related("event")
        .prefetch_related(Prefetch("attempt_log", queryset=Attempt.objects.order_by("number", "id")))
        .order_by("-created_at", "-id")[:LOG_SIZE]
    )
    response = render(
        request,
        "webhooks/endpoint_detail.html",
        {
            "membership": membership,
            "tenant": membership.tenant,
            "active_tab": "webhooks",
            "endpoint": endpoint,
            "form": form,
            "secret": secret,
            "deliveries": deliveries,
            "delivery": worker_status(),
            "reauth_url": _lock(request, _detail_url(endpoint) + "#edit-heading"),
        },
        status=status,
    )
    if secret is not None:
        add_never_cache_headers(response)
    return response


def _edit_form(endpoint: Endpoint, data=None) -> EndpointForm:
    initial = {
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": endpoint.event_types,
        "is_active": endpoint.is_active,
    }
    return EndpointForm(data, initial=initial, with_active=True)


@require_GET
def endpoint_detail(request: HttpRequest, code: str, endpoint_id: UUID) -> HttpResponse:
    """An endpoint: its settings, its secret (shown once after creating or rotating it), the
    last deliveries with every attempt."""
    membership = _admin(request, code)
    endpoint = _endpoint(membership, endpoint_id)
    secret = None
    if request.session.get(SHOW_ONCE_SESSION_KEY) == str(endpoint.public_id):
        del request.session[SHOW_ONCE_SESSION_KEY]
        secret = _secret_or_message(request, endpoint)
    return _render_detail(request, membership, endpoint, _edit_form(endpoint), secret=secret)


def _secret_or_message(request: HttpRequest, endpoint: Endpoint, *, reveal: bool = False) -> str | None:
    try:
        return services.endpoint_secret_reveal(endpoint=endpoint) if reveal else services.endpoint_secret(endpoint)
    except services.SecretUnreadable:
        messages.error(
            request, gettext("The signing secret cannot be decrypted with the portal's encryption keys: rotate it.")
        )
        return None


@require_POST
def endpoint_edit(request: HttpRequest, code: str, endpoint_id: UUID) -> HttpResponse:
    membership, endpoint, reauth = _changing(request, code, endpoint_id)
    if reauth:
        return reauth
    form = _edit_form(endpoint, request.POST)
    if not form.is_valid():
        return _render_detail(request, membership, endpoint, form, status=400)
    services.endpoint_update(endpoint=endpoint, **form.cleaned_data)
    messages.success(request, gettext("Endpoint saved."))
    return redirect(_detail_url(endpoint))


@require_POST
def endpoint_secret(request: HttpRequest, code: str, endpoint_id: UUID) -> HttpResponse:
    """Show the signing secret (an explicit reveal); never cached."""
    membership, endpoint, reauth = _changing(request, code, endpoint_id)
    if reauth:
        return reauth
    secret = _secret_or_message(request, endpoint, reveal=True)
    response = _render_detail(request, membership, endpoint, _edit_form(endpoint), secret=secret)
    add_never_cache_headers(response)
    return response


@require_POST
def endpoint_rotate(request: HttpRequest, code: str, endpoint_id: UUID) -> HttpResponse:
    """A new signing secret, shown once on the endpoint's page."""
    _membership, endpoint, reauth = _changing(request, code, endpoint_id)
    if reauth:
        return reauth
    services.endpoint_secret_rotate(endpoint=endpoint)
    request.session[SHOW_ONCE_SESSION_KEY] = str(endpoint.public_id)
    messages.success(request, gettext("New signing secret made; the old one signs nothing from now on. Copy it now."))
    return redirect(_detail_url(endpoint))


@require_http_methods(["GET", "POST"])
def endpoint_delete(request: HttpRequest, code: str, endpoint_id: UUID) -> HttpResponse:
    """GET: a confirmation. POST: remove the endpoint and its delivery log."""
    membership = _admin(request, code)
    endpoint = _endpoint(membership, endpoint_id)
    if request.method == "GET":
        context = {
            "membership": membership,
            "tenant": membership.tenant,
            "active_tab": "webhooks",
            "endpoint": endpoint,
        }
        return render(request, "webhooks/endpoint_confirm_delete.html", context)
    if reauth := _reauth(request, request.path):
        return reauth
    services.endpoint_delete(endpoint=endpoint)
    messages.success(request, gettext("Endpoint removed."))
    return redirect("webhooks:list", code=code)


@require_POST
def endpoint_test(request: HttpRequest, code: str, endpoint_id: UUID) -> HttpResponse:
    """Queue a `webhook.test` event for this endpoint and deliver it at once (through the
    worker's own claim, so no worker sends it too); retried by the worker if it fails."""
    membership = _admin(request, code)
    endpoint = _endpoint(membership, endpoint_id)
    delivery = endpoint_test_event(endpoint=endpoint, actor_email=request.user.email)
    if deliveries_claim(limit=1, only=delivery.pk):
        outcome = delivery_attempt(delivery.pk)
        if outcome.ok:
            messages.success(
                request,
                gettext("Test event delivered: HTTP %(status)s in %(ms)s ms.")
                % {"status": outcome.status_code, "ms": outcome.duration_ms},
            )
        else:
            retried = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING).exists()
            # The error itself is the delivery log's own English text (stored with the attempt).
            if retried:
                text = gettext("Test event not delivered: %(error)s. It will be retried.")
            else:
                text = gettext("Test event not delivered: %(error)s.")
            messages.error(request, text % {"error": outcome.error})
    return redirect(_detail_url(endpoint))
