import math

from django.contrib.auth import views as auth_views
from django.http import HttpResponse

from portal.net import client_ip

from . import throttle
from .forms import EmailAuthenticationForm


class LoginView(auth_views.LoginView):
    """Django's login, with failed attempts limited per e-mail and per client address."""

    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs) -> HttpResponse:
        email = request.POST.get("username", "")[:254]
        address = client_ip(request)
        wait = throttle.retry_after(email, address)
        if wait is not None:
            form = self.get_form()
            form.errors.clear()
            form.add_error(None, f"Too many failed logins. Try again in {math.ceil(wait / 60)} minute(s).")
            response = self.render_to_response(self.get_context_data(form=form), status=429)
            response["Retry-After"] = str(wait)
            return response
        response = super().post(request, *args, **kwargs)
        if response.status_code == 200:  # the form came back: the login failed
            throttle.record_failure(email, address)
        return response
