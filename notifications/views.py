from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .services import preferences_set


@require_POST
def preferences(request: HttpRequest) -> HttpResponse:
    """Which notification mails the user gets (checkboxes named `kind` on My Account)."""
    preferences_set(user=request.user, wanted=request.POST.getlist("kind"))
    messages.success(request, _("Your notification settings were saved."))
    return redirect(f"{reverse('my_account')}#notifications")
