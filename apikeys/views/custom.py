"""Creating, editing and deleting custom keys (admins only). The built-in keys are not
custom keys: their edit and delete URLs 404."""

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from tenants.access import membership_for, require_role
from tenants.models import Role

from .. import services
from ..forms import CustomKeyForm
from ..models import ApiKey, KeyKind

NAME_TAKEN = "This tenant already has a key with this name."


def _list_url(code: str) -> str:
    return reverse("apikeys:list", kwargs={"code": code})


def _custom_key(membership, key_id) -> ApiKey:
    return get_object_or_404(ApiKey, tenant=membership.tenant, public_id=key_id, kind=KeyKind.CUSTOM)


def _posted(request: HttpRequest):
    # Bound on every POST, even an empty one, so that it gets its "required" errors.
    return request.POST if request.method == "POST" else None


def _render_form(request: HttpRequest, membership, form: CustomKeyForm, status: int) -> HttpResponse:
    return render(
        request,
        "apikeys/key_form.html",
        {
            "membership": membership,
            "tenant": membership.tenant,
            "active_tab": "keys",
            "form": form,
            "key": form.key,
            "chosen": form.chosen_names(),
            "services": form.services(),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def key_create(request: HttpRequest, code: str) -> HttpResponse:
    membership = require_role(membership_for(request, code), Role.ADMIN)
    form = CustomKeyForm(_posted(request), tenant=membership.tenant)
    if request.method == "POST":
        if form.is_valid():
            try:
                with transaction.atomic():
                    key, _ = services.key_create(
                        tenant=membership.tenant,
                        kind=KeyKind.CUSTOM,
                        name=form.cleaned_data["name"],
                        scopes=form.cleaned_data["scopes"],
                        actor=request.user,
                        request=request,
                    )
            except IntegrityError:
                # Another request took the name between our check and the insert.
                form.add_error("name", NAME_TAKEN)
            else:
                messages.success(request, f"Custom API key “{key.name}” created")
                return redirect(_list_url(code) + f"?created={key.public_id}#key-{key.public_id}")
        return _render_form(request, membership, form, status=400)
    return _render_form(request, membership, form, status=200)


@require_http_methods(["GET", "POST"])
def key_edit(request: HttpRequest, code: str, key_id) -> HttpResponse:
    membership = require_role(membership_for(request, code), Role.ADMIN)
    key = _custom_key(membership, key_id)
    form = CustomKeyForm(_posted(request), tenant=membership.tenant, key=key)
    if request.method == "POST":
        if form.is_valid():
            try:
                with transaction.atomic():
                    key = services.key_update(
                        key=key,
                        name=form.cleaned_data["name"],
                        scopes=form.cleaned_data["scopes"],
                        actor=request.user,
                        request=request,
                    )
            except IntegrityError:
                form.add_error("name", NAME_TAKEN)
            else:
                messages.success(request, f"Custom API key “{key.name}” saved")
                return redirect(_list_url(code) + f"#key-{key.public_id}")
        return _render_form(request, membership, form, status=400)
    return _render_form(request, membership, form, status=200)


@require_http_methods(["GET", "POST"])
def key_delete(request: HttpRequest, code: str, key_id) -> HttpResponse:
    """GET asks for confirmation; POST deletes the key, its secrets and so its tokens."""
    membership = require_role(membership_for(request, code), Role.ADMIN)
    key = _custom_key(membership, key_id)
    if request.method == "POST":
        services.key_delete(key=key, actor=request.user, request=request)
        messages.success(request, "Key deleted")
        return redirect(_list_url(code))
    return render(
        request,
        "apikeys/key_confirm_delete.html",
        {"membership": membership, "tenant": membership.tenant, "active_tab": "keys", "key": key},
    )
