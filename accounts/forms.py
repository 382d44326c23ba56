"""allauth's forms, fitted to the portal: the login form's e-mail field keeps the name
`username`, and every check of a password or second factor goes through accounts.throttle.
Second factors are checked here rather than by allauth's TOTP wrapper, so that a used code is
remembered in the database row (locked), not in the cache."""

import logging

from allauth.account import forms as account_forms
from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.core import context
from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from allauth.mfa.base import forms as mfa_forms
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal import auth as totp
from allauth.mfa.utils import decrypt
from allauth.mfa.webauthn import forms as webauthn_forms
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from fido2.webauthn import AuthenticationResponse, RegistrationResponse

from kernel.background import after_response
from kernel.crypto import DecryptionError
from kernel.dates import wait_text
from kernel.net import client_ip

from . import resets, throttle

logger = logging.getLogger(__name__)


def too_many(wait: int) -> ValidationError:
    return ValidationError(
        _("Too many failed attempts. Try again in %(wait)s.") % {"wait": wait_text(wait)}, code="limited"
    )


def _checked(kind: str, user, check) -> bool:
    """check() through the per-user and per-address limit of `kind`; raises past it."""
    result = throttle.checked(kind, user.pk, client_ip(context.request), check)
    if result is not True and result is not False:
        raise too_many(result)
    return result


class LoginForm(account_forms.LoginForm):
    """allauth's login form with its e-mail field named `username`, as in Django's and the
    admin's login forms (and what password managers and existing clients send)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields.pop("login")
        field.label = _("E-mail")
        field.widget.attrs.update({"autofocus": True, "autocomplete": "username"})
        field.widget.attrs.pop("placeholder", None)
        self.fields["password"].help_text = ""
        self.fields = {"username": field, **self.fields}

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip()

    def clean(self):
        if "username" in self.cleaned_data:
            self.cleaned_data["login"] = self.cleaned_data["username"]
        return super().clean()


def totp_accepted(authenticator: Authenticator, code: str) -> bool:
    """Whether `code` is the authenticator app's code for now (one step either side, with
    MFA_TOTP_TOLERANCE = 1) and newer than every code this authenticator accepted before. The
    last accepted time step is kept in the authenticator's row, read and written under a row
    lock, so a code is accepted once, by one request, in every process."""
    secret = decrypt(authenticator.data["secret"])
    for step in totp.yield_hotp_counters_from_time():
        if totp.compare_user_code(actual=code, expected=totp.format_hotp_value(totp.hotp_value(secret, step))):
            with transaction.atomic():
                row = Authenticator.objects.select_for_update().get(pk=authenticator.pk)
                if row.data.get("last_step", -1) >= step:
                    return False
                row.data["last_step"] = step
                row.save(update_fields=["data"])
            authenticator.data = row.data
            return True
    return False


def recovery_code_accepted(authenticator: Authenticator, code: str) -> bool:
    """Whether `code` is one of the unused recovery codes; it is used up if so (under a row
    lock, so two requests cannot both spend it)."""
    with transaction.atomic():
        row = Authenticator.objects.select_for_update().get(pk=authenticator.pk)
        return row.wrap().validate_code(code)


class SecondFactorMixin:
    """The code field of allauth's authenticate and re-authenticate forms: an authenticator
    app code or a recovery code, limited per user and address."""

    throttle_kind = "mfa"

    def clean_code(self) -> str:
        code = self.cleaned_data["code"]
        authenticators = list(
            Authenticator.objects.filter(user=self.user).exclude(type=Authenticator.Type.WEBAUTHN)  # no typed codes
        )

        def check() -> bool:
            for authenticator in authenticators:
                try:
                    if authenticator.type == Authenticator.Type.TOTP:
                        accepted = totp_accepted(authenticator, code)
                    else:
                        accepted = recovery_code_accepted(authenticator, code)
                except DecryptionError as exc:  # its encryption key is gone (check accounts.W001)
                    logger.error("Second factor %s of user %s cannot be read: %s", authenticator.pk, self.user.pk, exc)
                    accepted = False
                if accepted:
                    authenticator.user = self.user
                    self.authenticator = authenticator
                    return True
            return False

        if not _checked(self.throttle_kind, self.user, check):
            main = next((a for a in authenticators if a.type == Authenticator.Type.TOTP), None)
            if main or authenticators:
                self._emit_authentication_failed(main or authenticators[0])
            raise ValidationError(_("Incorrect code."), code="incorrect_code")
        return code


class AuthenticateForm(SecondFactorMixin, mfa_forms.AuthenticateForm):
    throttle_kind = "mfa"


class MFAReauthenticateForm(SecondFactorMixin, mfa_forms.ReauthenticateForm):
    throttle_kind = "reauth"


class ReauthenticateForm(account_forms.ReauthenticateForm):
    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not _checked("reauth", self.user, lambda: self.user.check_password(password)):
            raise ValidationError(_("Incorrect password."), code="incorrect_password")
        return password


class ChangePasswordForm(account_forms.ChangePasswordForm):
    def clean_oldpassword(self) -> str:
        password = self.cleaned_data.get("oldpassword", "")
        if not _checked("password", self.user, lambda: self.user.check_password(password)):
            raise ValidationError(_("Please type your current password."), code="enter_current_password")
        return password


class ResetPasswordForm(account_forms.ResetPasswordForm):
    """allauth's form, doing the same work whether or not the address has an account, so that
    the answer's timing does not tell (issue 18: it took about 4 ms longer for an existing
    account, the time to render and send the mail): one query of the same shape for any
    address, the mail rendered for the account or, without one, for a stand-in (and dropped),
    and the real mail sent by the background thread after the response (kernel.background)."""

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        wait = throttle.reset_mail_requested(email, client_ip(context.request))
        if wait is not None:
            raise forms.ValidationError(
                _("Too many reset requests. Try again in %(wait)s.") % {"wait": wait_text(wait)}, code="limited"
            )
        email = get_account_adapter().clean_email(email.lower())
        # The account's own address is the only one (no e-mail management): one query, where
        # allauth's lookup asks its EmailAddress table first and the users' table only when no
        # verified address is found there (one query or two, depending on the account).
        self.users = list(get_user_model().objects.filter(email__iexact=email, is_active=True))
        return self.cleaned_data["email"]

    def save(self, request, **kwargs) -> str:
        email = self.cleaned_data["email"]
        for user in self.users or [resets.stand_in(email)]:
            mail = resets.reset_mail(request, user, email)
            if user.pk != resets.STAND_IN_PK:
                after_response(mail.send, description=f"password reset mail to user {user.pk}")
        return email


class WellFormedCredentialMixin:
    """The passkey forms refuse a malformed credential as an incorrect one. allauth lets
    fido2's KeyError (a JSON object without `rawId`) and, for a new passkey, ValueError (a
    field that does not decode) escape, which made anyone's POST to the public passkey login
    a server error. The credential is parsed here first; allauth then parses it again."""

    parse = staticmethod(AuthenticationResponse.from_dict)

    def clean_credential(self):
        credential = self.cleaned_data["credential"]
        try:
            self.parse(credential)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError):
            raise get_mfa_adapter().validation_error("incorrect_code") from None
        clean = getattr(super(), "clean_credential", None)
        return clean() if clean else credential


class LoginPasskeyForm(WellFormedCredentialMixin, webauthn_forms.LoginWebAuthnForm):
    pass


class AuthenticatePasskeyForm(WellFormedCredentialMixin, webauthn_forms.AuthenticateWebAuthnForm):
    pass


class ReauthenticatePasskeyForm(WellFormedCredentialMixin, webauthn_forms.ReauthenticateWebAuthnForm):
    pass


class AddPasskeyForm(WellFormedCredentialMixin, webauthn_forms.AddWebAuthnForm):
    """allauth's form, worded for the portal; a new passkey logs in alone unless unticked."""

    parse = staticmethod(RegistrationResponse.from_dict)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].label = _("Name")
        self.fields["name"].help_text = _("To tell your passkeys apart, e.g. the device it is on.")
        passwordless = self.fields["passwordless"]
        passwordless.label = _("Also log in with it, without a password")
        passwordless.help_text = _("Needs a passkey that checks it is you: fingerprint, face or PIN.")
        passwordless.initial = True
