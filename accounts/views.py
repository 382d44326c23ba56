"""The login views (allauth's, and the Django admin's form) through accounts.throttle, and My
Account with its session list."""

from allauth.account import views as allauth_views
from allauth.mfa.base import views as mfa_views
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from kernel.dates import ZONE_COOKIE, valid_zone, wait_text, zone_names
from kernel.net import client_ip

from . import devices, reauth, sessions, throttle
from .page import my_account_context


class LimitedLoginMixin:
    """A login view whose POSTs go through accounts.throttle: counted before the password is
    checked, refused with 429 and Retry-After past a limit, taken back on success (a redirect:
    logged in, or on to the second factor)."""

    def post(self, request, *args, **kwargs) -> HttpResponse:
        email = request.POST.get("username", "")[:254]
        address = client_ip(request)
        wait = throttle.attempt(email, address)
        if wait is not None:
            return self.refuse(email, wait)
        response = super().post(request, *args, **kwargs)
        if response.status_code == 302:
            throttle.succeeded(email, address)
        return response

    def unbound_form(self, email: str):
        raise NotImplementedError

    def refuse(self, email: str, wait: int) -> HttpResponse:
        # An unbound form: binding it would check the password.
        form = self.unbound_form(email)
        response = self.render_to_response(self.refused_context(form, wait_text(wait)), status=429)
        response["Retry-After"] = str(wait)
        return response

    def refused_context(self, form, wait: str) -> dict:
        """The page's context when a login is refused for `wait` ("15 minutes"): the form keeps
        the e-mail typed; the reason is the form's error unless the view's template shows it on
        its own."""
        form.cleaned_data = {}
        form.add_error(None, _("Too many failed logins. Try again in %(wait)s.") % {"wait": wait})
        return self.get_context_data(form=form)


class LoginView(LimitedLoginMixin, allauth_views.LoginView):
    """The portal's login: allauth's (e-mail and password, then the second factor if the user
    has one; or a passkey alone), through the portal's login limits."""

    def unbound_form(self, email: str):
        return self.get_form_class()(request=self.request, initial={"username": email})

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        context["session_ended"] = self.request.session.pop(sessions.ENDED, None)
        return context

    def refused_context(self, form, wait: str) -> dict:
        # Its own notice above the form (templates/account/login.html), not under "Please
        # correct the errors below": nothing typed is wrong, the attempts are too many.
        return {**self.get_context_data(form=form), "locked_out": wait}


class AdminLoginView(LimitedLoginMixin, auth_views.LoginView):
    """/admin/login/: the Django admin's own login form and page, through the same limits
    (it is what admin.site.login serves, plus the throttle). It asks for a password only, so
    a user with a second factor is sent to the portal's login instead of being logged in."""

    authentication_form = AdminAuthenticationForm
    template_name = "admin/login.html"

    def setup(self, request, *args, **kwargs) -> None:
        super().setup(request, *args, **kwargs)
        request.current_app = admin.site.name

    def get(self, request, *args, **kwargs) -> HttpResponse:
        if admin.site.has_permission(request):  # already logged in as staff
            return redirect("admin:index")
        return super().get(request, *args, **kwargs)

    def unbound_form(self, email: str):
        return self.get_form_class()(self.request, initial={"username": email})

    def form_valid(self, form) -> HttpResponse:
        if is_mfa_enabled(form.get_user()):
            return redirect(f"{reverse('login')}?next={reverse('admin:index')}")
        return super().form_valid(form)

    def get_default_redirect_url(self) -> str:
        return reverse("admin:index")

    def get_context_data(self, **kwargs) -> dict:
        return {
            **admin.site.each_context(self.request),
            "title": _("Log in"),
            "subtitle": None,
            "app_path": self.request.get_full_path(),
            "username": self.request.user.get_username(),
            **super().get_context_data(**kwargs),
        }


login = login_not_required(LoginView.as_view())


class AuthenticateView(mfa_views.AuthenticateView):
    """The second factor at login; offers "Use a passkey" only to a user who has one."""

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        user = self.stage.login.user
        context["has_passkey"] = Authenticator.objects.filter(user=user, type=Authenticator.Type.WEBAUTHN).exists()
        return context


authenticate = AuthenticateView.as_view()


def _session_rows(request: HttpRequest) -> list[dict]:
    sessions = sorted(UserSession.objects.purge_and_list(request.user), key=lambda s: s.last_seen_at, reverse=True)
    return [
        {
            "session": session,
            "device": devices.label(session.user_agent),
            "current": session.session_key == request.session.session_key,
        }
        for session in sessions
    ]


@require_GET
@never_cache
def my_account(request: HttpRequest) -> HttpResponse:
    """The user's details, roles per tenant, password, second factors and sessions."""
    user = request.user
    authenticators = list(Authenticator.objects.filter(user=user).order_by("created_at"))
    by_type = {kind: [a for a in authenticators if a.type == kind] for kind in Authenticator.Type}
    recovery = by_type[Authenticator.Type.RECOVERY_CODES]
    return render(
        request,
        "account/my_account.html",
        {
            "totp": next(iter(by_type[Authenticator.Type.TOTP]), None),
            "passkeys": by_type[Authenticator.Type.WEBAUTHN],
            "recovery_codes_left": len(recovery[0].wrap().get_unused_codes()) if recovery else None,
            "mfa_enabled": bool(by_type[Authenticator.Type.TOTP] or by_type[Authenticator.Type.WEBAUTHN]),
            "sessions": _session_rows(request),
            "idle_minutes": settings.SESSION_IDLE_TIMEOUT // 60,
            "lifetime_hours": settings.SESSION_ABSOLUTE_LIFETIME // 3600,
            "zone_names": zone_names(),
            "now": timezone.now(),
            "browser_zone": request.COOKIES.get(ZONE_COOKIE, "")
            if valid_zone(request.COOKIES.get(ZONE_COOKIE))
            else "",
            "default_zone": settings.TIME_ZONE,
            "languages": settings.LANGUAGES,
            # What the apps above this one show here (accounts.page): tenants, mail preferences.
            **my_account_context(user),
        },
    )


@require_POST
def time_zone_set(request: HttpRequest) -> HttpResponse:
    """The user's time zone for every time the portal shows them; empty: their browser's."""
    name = request.POST.get("time_zone", "")
    if name and valid_zone(name) is None:
        messages.error(request, _("Choose a time zone from the list."))
        return redirect(f"{reverse('my_account')}#time-zone")
    request.user.time_zone = name
    request.user.save(update_fields=["time_zone"])
    messages.success(
        request,
        _("Times are now shown in %(zone)s.") % {"zone": name}
        if name
        else _("Times now follow your browser's time zone."),
    )
    return redirect(f"{reverse('my_account')}#time-zone")


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """The user's language for pages and mails (kernel.middleware.LanguageMiddleware); empty:
    their browser's. It also becomes the language cookie, so that the signed-out pages (after
    logging out) speak it too; choosing the browser's removes the cookie."""
    code = request.POST.get("language", "")
    if code and code not in dict(settings.LANGUAGES):
        messages.error(request, _("Choose a language from the list."))
        return redirect(f"{reverse('my_account')}#language")
    request.user.language = code
    request.user.save(update_fields=["language"])
    # Now, so that the notice is in the language just chosen.
    translation.activate(code or translation.get_language_from_request(request))
    messages.success(
        request,
        _("The portal now speaks %(language)s.") % {"language": dict(settings.LANGUAGES)[code]}
        if code
        else _("The portal now follows your browser's language."),
    )
    response = redirect(f"{reverse('my_account')}#language")
    if code:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            code,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    else:
        response.delete_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    return response


@require_POST
def session_end(request: HttpRequest, session_id: int) -> HttpResponse:
    """End one of the user's other sessions (this one ends with Log out)."""
    session = get_object_or_404(UserSession, user=request.user, pk=session_id)
    if session.session_key == request.session.session_key:
        messages.error(request, _("This is the session you are using: log out to end it."))
    else:
        session.end()
        messages.success(
            request,
            _("The session of %(device)s at %(address)s ended.")
            % {"device": devices.label(session.user_agent), "address": session.ip},
        )
    return redirect(f"{reverse('my_account')}#sessions")


@require_POST
def sessions_end_others(request: HttpRequest) -> HttpResponse:
    """End every session of the user but this one."""
    ended = sessions.end_other_sessions(request, request.user)
    if ended:
        text = ngettext("Ended %(count)d other session.", "Ended %(count)d other sessions.", ended) % {"count": ended}
    else:
        text = _("No other session was open.")
    messages.success(request, text)
    return redirect(f"{reverse('my_account')}#sessions")


@require_GET
@never_cache
def reauth_status(request: HttpRequest) -> JsonResponse:
    """For static/js/reauth-keep.js, before it submits a form: is the user's authentication
    still recent? `{"recent": bool, "seconds_left": int, "reauthenticate_url": ...}`, the URL
    returning to `next` (a path of this site; else home). Reads, never changes, the session."""
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = resolve_url(settings.LOGIN_REDIRECT_URL)
    return JsonResponse(
        {
            "recent": reauth.recently_authenticated(request),
            "seconds_left": reauth.seconds_left(request),
            "reauthenticate_url": reauth.reauthenticate_url(request, next_url),
        }
    )


def password_change_done(request: HttpRequest) -> HttpResponse:
    """The old name of the page after a password change: My Account."""
    return redirect("my_account")


def mfa_index(request: HttpRequest) -> HttpResponse:
    """allauth's two-factor overview is part of My Account."""
    return redirect(f"{reverse('my_account')}#mfa")
