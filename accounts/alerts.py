"""Login alerts: a login from a browser family and client address this user has not logged in
from before is mailed to them, like Emporix's alert for unrecognised browsers. Their first
login ever is not (every pair is new then); known pairs are remembered in KnownDevice."""

import logging

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation

from kernel.dates import human_datetime
from kernel.mail import mail_language
from kernel.net import client_ip

from . import devices
from .models import KnownDevice

logger = logging.getLogger(__name__)


def login_seen(request: HttpRequest, user: AbstractBaseUser) -> None:
    """Remember where this login came from; mail the user if that is somewhere new."""
    address = client_ip(request)
    if not settings.LOGIN_ALERTS or not address:  # force_login and the like: no client
        return
    browser = devices.describe(request.headers.get("User-Agent", ""))
    first_login = not KnownDevice.objects.filter(user=user).exists()
    device, created = KnownDevice.objects.get_or_create(user=user, browser=browser, address=address)
    if not created:
        device.save(update_fields=["last_seen_at"])
        return
    if not first_login:
        with translation.override(mail_language(user)):  # the time in the mail's language too
            context = {
                "user": user,
                "browser": devices.label(request.headers.get("User-Agent", "")),
                "address": address,
                "when": human_datetime(timezone.now()),
                "account_url": request.build_absolute_uri(reverse("my_account")),
                "reset_url": request.build_absolute_uri(reverse("password_reset")),
            }
        _send(user, context)


def _send(user: AbstractBaseUser, context: dict) -> None:
    # A mail server that is down must not stop the login it reports.
    try:
        get_adapter().send_mail("account/email/login_alert", user.email, context)
    except Exception:
        logger.exception("Login alert not sent to user %s", user.pk)
