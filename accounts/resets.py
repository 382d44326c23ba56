"""The password-reset mail, built as allauth builds it (allauth.account.internal.flows.
password_reset.request_password_reset and the adapter's send_mail), but returned instead of
sent: the reset form renders one for any address, the account's or a stand-in's, and sends
only the account's, after the response (accounts.forms.ResetPasswordForm)."""

from allauth.account.adapter import get_adapter
from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.sites.shortcuts import get_current_site
from django.core.mail import EmailMessage
from django.http import HttpRequest

TEMPLATE_PREFIX = "account/email/password_reset_key"
# No account has it: primary keys start at 1.
STAND_IN_PK = 0
# The shape of a stored password hash (the reset token is derived from it), matching nothing.
_STAND_IN_PASSWORD = "!" + "0" * 40


def stand_in(email: str) -> AbstractBaseUser:
    """An unsaved user for an address without an account, to render the same mail for."""
    return get_user_model()(pk=STAND_IN_PK, email=email, password=_STAND_IN_PASSWORD)


def reset_mail(request: HttpRequest, user: AbstractBaseUser, email: str) -> EmailMessage:
    """The reset mail for `user` at `email`, with its one-time link, rendered (text and HTML
    parts, accounts.adapter) but not sent."""
    uid = user_pk_to_url_str(user)
    temp_key = default_token_generator.make_token(user)
    adapter = get_adapter(request)
    context = {
        "request": request,
        "email": email,
        "current_site": get_current_site(request),
        "user": user,
        "password_reset_url": adapter.get_reset_password_from_key_url(f"{uid}-{temp_key}"),
        "uid": uid,
        "key": temp_key,
    }
    return adapter.render_mail(TEMPLATE_PREFIX, email, context)
