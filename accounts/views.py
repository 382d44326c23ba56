import math

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from portal.net import client_ip

from . import throttle
from .forms import EmailAuthenticationForm


class LimitedLoginMixin:
    """A login view whose POSTs go through accounts.throttle: counted before the password is
    checked, refused with 429 and Retry-After past a limit, taken back on success."""

    def post(self, request, *args, **kwargs) -> HttpResponse:
        email = request.POST.get("username", "")[:254]
        address = client_ip(request)
        wait = throttle.attempt(email, address)
        if wait is not None:
            return self.refuse(email, wait)
        response = super().post(request, *args, **kwargs)
        if response.status_code == 302:  # logged in
            throttle.succeeded(email, address)
        return response

    def refuse(self, email: str, wait: int) -> HttpResponse:
        # An unbound form: binding it would check the password.
        form = self.get_form_class()(self.request, initial={"username": email})
        form.cleaned_data = {}
        form.add_error(None, f"Too many failed logins. Try again in {math.ceil(wait / 60)} minute(s).")
        response = self.render_to_response(self.get_context_data(form=form), status=429)
        response["Retry-After"] = str(wait)
        return response


class LoginView(LimitedLoginMixin, auth_views.LoginView):
    """The portal's login (e-mail and password)."""

    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True


class AdminLoginView(LimitedLoginMixin, auth_views.LoginView):
    """/admin/login/: the Django admin's own login form and page, through the same limits
    (it is what admin.site.login serves, plus the throttle)."""

    authentication_form = AdminAuthenticationForm
    template_name = "admin/login.html"

    def setup(self, request, *args, **kwargs) -> None:
        super().setup(request, *args, **kwargs)
        request.current_app = admin.site.name

    def get(self, request, *args, **kwargs) -> HttpResponse:
        if admin.site.has_permission(request):  # already logged in as staff
            return redirect("admin:index")
        return super().get(request, *args, **kwargs)

    def get_default_redirect_url(self) -> str:
        return reverse("admin:index")

    def get_context_data(self, **kwargs) -> dict:
        return {
            **admin.site.each_context(self.request),
            "title": "Log in",
            "subtitle": None,
            "app_path": self.request.get_full_path(),
            "username": self.request.user.get_username(),
            **super().get_context_data(**kwargs),
        }
