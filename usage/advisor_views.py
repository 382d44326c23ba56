"""The access advisor's pages (docs/access-advisor.md): a key's advice, the tenant's findings,
and "Narrow to what is used". Every member sees the advice; narrowing a key is an admin's, like
any change of its scopes, and needs a recent authentication."""

from uuid import UUID

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext, gettext_noop, ngettext
from django.views.decorators.http import require_GET, require_http_methods

from accounts.reauth import reauthentication_needed
from activity.audit import Audit
from apikeys.models import ApiKey, KeyKind
from apikeys.services import key_update
from scopes.models import Scope
from scopes.unlocks import scope_diff
from tenants.access import membership_for, require_role
from tenants.models import Membership, Role

from .advisor import WINDOW_DAYS, KeyAdvice, advise, keys_for_advice, tenant_findings

FINDINGS_PER_PAGE = 50
NOTHING_TO_NARROW = gettext_noop("{name} has nothing to narrow: it has no unused scope beside used ones.")
CHANGED_SINCE = gettext_noop("The key's use or scopes changed since this page was shown: check what it keeps now.")


def _key(membership: Membership, key_id: UUID) -> ApiKey:
    return get_object_or_404(keys_for_advice(membership.tenant), public_id=key_id)


def _advice_url(code: str, key: ApiKey) -> str:
    return reverse("advisor:key", kwargs={"code": code, "key_id": key.public_id})


def _context(membership: Membership, **more) -> dict:
    return {"membership": membership, "tenant": membership.tenant, "active_tab": "keys", "window": WINDOW_DAYS, **more}


@require_GET
def key_advice(request: HttpRequest, code: str, key_id: UUID) -> HttpResponse:
    """One key's advice, by service: its scopes, what they open, when each was last used."""
    membership = membership_for(request, code)
    advice = advise([_key(membership, key_id)], membership.tenant)[0]
    return render(request, "usage/advisor_key.html", _context(membership, advice=advice, key=advice.key))


@require_GET
def findings(request: HttpRequest, code: str) -> HttpResponse:
    """Every key of the tenant with a finding: never used, dormant, unused scopes."""
    membership = membership_for(request, code)
    page = Paginator(tenant_findings(membership.tenant), FINDINGS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "usage/advisor_tenant.html", _context(membership, page=page))


def _confirm(request: HttpRequest, membership: Membership, advice: KeyAdvice, *, status: int = 200) -> HttpResponse:
    return render(
        request,
        "usage/advisor_narrow.html",
        _context(
            membership,
            advice=advice,
            key=advice.key,
            diff=scope_diff(advice.used_scopes + advice.unused_scopes, advice.used_scopes),
        ),
        status=status,
    )


def _same_page(request: HttpRequest, **kwargs) -> str:
    return request.path


@require_http_methods(["GET", "POST"])
def narrow(request: HttpRequest, code: str, key_id: UUID) -> HttpResponse:
    """GET shows what narrowing the custom key to its used scopes loses (the scope picker's
    diff of operations); POST, after a recent authentication, does it through the keys app's
    key_update, recorded in the activity log as any change of scopes. The POST names the scopes
    it was shown to keep: if the key's use or scopes changed since, nothing changes and the
    page is shown again with the new figures."""
    membership = require_role(membership_for(request, code), Role.ADMIN)
    key = _key(membership, key_id)
    if key.kind != KeyKind.CUSTOM:  # built-in keys' scopes cannot change (their page says what fits)
        raise Http404(gettext("Only a custom key can be narrowed."))
    if request.method != "POST":
        return _narrowing(request, membership, key, keep=None)
    if reauth := reauthentication_needed(request, form_page=_same_page):
        return reauth
    # The key's row locked while its advice is read again and its scopes set: an edit of its
    # scopes meanwhile waits, and is then judged on the narrowed key, never silently undone.
    with transaction.atomic():
        ApiKey.objects.select_for_update(no_key=True).filter(pk=key.pk).exists()
        return _narrowing(request, membership, _key(membership, key_id), keep=request.POST.getlist("keep"))


def _narrowing(request: HttpRequest, membership: Membership, key: ApiKey, keep: list[str] | None) -> HttpResponse:
    """The confirmation (`keep` None), or the narrowing if `keep` is what the key used."""
    code = membership.tenant.code
    advice = advise([key], membership.tenant)[0]
    if not advice.can_narrow:
        messages.info(request, gettext(NOTHING_TO_NARROW).format(name=key.name))
        return redirect(_advice_url(code, key))
    if keep is None:
        return _confirm(request, membership, advice)
    if sorted(keep) != advice.used_scopes:
        messages.warning(request, gettext(CHANGED_SINCE))
        return _confirm(request, membership, advice, status=409)
    key_update(
        key=key,
        name=key.name,
        scopes=Scope.objects.filter(name__in=advice.used_scopes),
        audit=Audit.of(request),
    )
    kept = len(advice.used_scopes)
    messages.success(
        request,
        ngettext(
            "%(name)s now keeps the %(count)d scope it used.", "%(name)s now keeps the %(count)d scopes it used.", kept
        )
        % {"name": key.name, "count": kept},
    )
    return redirect(_advice_url(code, key))
