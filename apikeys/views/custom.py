"""Creating, editing and deleting custom keys (admins only). The built-in keys are not
custom keys: their edit and delete URLs 404."""

from uuid import UUID

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_http_methods

from activity.audit import Audit
from tenants.access import membership_for, require_role
from tenants.models import Membership, Role

from .. import services
from ..forms import MAX_POSTED_SCOPES, CustomKeyForm
from ..models import ApiKey, KeyKind
from .listing import NOTICE_ANCHOR, form_needs_reauthentication, notice_next_to_key, post_needs_reauthentication

NAME_TAKEN = gettext_lazy("This tenant already has a key with this name.")


def _list_url(code: str) -> str:
    return reverse("apikeys:list", kwargs={"code": code})


def _custom_key(membership: Membership, key_id: UUID) -> ApiKey:
    return get_object_or_404(ApiKey, tenant=membership.tenant, public_id=key_id, kind=KeyKind.CUSTOM)


def _posted(request: HttpRequest):
    # Bound on every POST, even an empty one, so that it gets its "required" errors.
    return request.POST if request.method == "POST" else None


def _render_form(request: HttpRequest, membership: Membership, form: CustomKeyForm, status: int) -> HttpResponse:
    return render(
        request,
        "apikeys/key_form.html",
        {
            "membership": membership,
            "tenant": membership.tenant,
            "active_tab": "keys",
            "form": form,
            "key": form.key,
            **form.picker(),
        },
        status=status,
    )


def _save(request: HttpRequest, membership: Membership, form: CustomKeyForm) -> ApiKey | None:
    """Create the key (`form.key` is None) or save its name and scopes; None, with the error
    on the form, if another request took the name between the form's check and the write."""
    audit = Audit.of(request)
    values = {
        "name": form.cleaned_data["name"],
        "scopes": form.cleaned_data["scopes"],
        "token_format": form.cleaned_data["token_format"],
    }
    try:
        with transaction.atomic():
            expires_at = form.cleaned_data["expires_at"]
            if form.key is None:
                key, _ = services.key_create(
                    tenant=membership.tenant,
                    kind=KeyKind.CUSTOM,
                    audit=audit,
                    expires_at=expires_at,
                    metadata=form.metadata(),
                    **values,
                )
                return key
            key = services.key_update(key=form.key, audit=audit, **values)
            key = services.key_metadata_set(key=key, metadata=form.metadata(), audit=audit)
            return services.key_expiry_set(key=key, expires_at=expires_at, audit=audit)
    except IntegrityError:
        form.add_error("name", NAME_TAKEN)
        return None
    except ValueError:  # the owner left the tenant since the form's check
        form.add_error("owner", gettext("The owner must be a member of the tenant."))
        return None


def _prefilled(request: HttpRequest, key: ApiKey | None) -> dict:
    """A new key's form may come with scopes ticked: `?scope=a&scope=b` (the access advisor's
    "Create a custom key with these scopes"). Only ticks boxes: nothing is saved before Generate."""
    if key is not None or request.method != "GET" or "scope" not in request.GET:
        return {}
    return {"initial": {"scopes": request.GET.getlist("scope")[:MAX_POSTED_SCOPES]}}


def _form_view(request: HttpRequest, membership: Membership, key: ApiKey | None) -> HttpResponse:
    """The create and edit flows: they differ only in the service they call and the message.
    The form itself (GET) needs a recent authentication too, so that the user re-authenticates
    before typing, not after; the POST checks again (a page left open past the window)."""
    if reauth := form_needs_reauthentication(request):
        return reauth
    form = CustomKeyForm(_posted(request), tenant=membership.tenant, key=key, **_prefilled(request, key))
    if request.method != "POST":
        return _render_form(request, membership, form, status=200)
    saved = _save(request, membership, form) if form.is_valid() else None
    if saved is None:
        return _render_form(request, membership, form, status=400)
    url = _list_url(membership.tenant.code)
    if key is None:
        secret = saved.secrets.current().get()
        notice_next_to_key(
            request, saved, gettext("Custom API key “%(name)s” created.") % {"name": saved.name}, secret=secret
        )
        return redirect(url + f"?created={saved.public_id}{NOTICE_ANCHOR}")
    notice_next_to_key(request, saved, gettext("Custom API key “%(name)s” saved.") % {"name": saved.name})
    return redirect(url + NOTICE_ANCHOR)


@require_http_methods(["GET", "POST"])
def key_create(request: HttpRequest, code: str) -> HttpResponse:
    membership = require_role(membership_for(request, code), Role.ADMIN)
    return _form_view(request, membership, key=None)


@require_http_methods(["GET", "POST"])
def key_edit(request: HttpRequest, code: str, key_id: UUID) -> HttpResponse:
    membership = require_role(membership_for(request, code), Role.ADMIN)
    return _form_view(request, membership, key=_custom_key(membership, key_id))


@require_http_methods(["GET", "POST"])
def key_delete(request: HttpRequest, code: str, key_id: UUID) -> HttpResponse:
    """GET asks for confirmation; POST deletes the key, its secrets and so its tokens."""
    membership = require_role(membership_for(request, code), Role.ADMIN)
    key = _custom_key(membership, key_id)
    if reauth := post_needs_reauthentication(request):
        return reauth
    if request.method == "POST":
        services.key_delete(key=key, audit=Audit.of(request))
        messages.success(request, gettext("Key deleted"))
        return redirect(_list_url(code))
    return render(
        request,
        "apikeys/key_confirm_delete.html",
        {"membership": membership, "tenant": membership.tenant, "active_tab": "keys", "key": key},
    )
