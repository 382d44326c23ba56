"""The accounts app's signal, and its receivers of Django's and allauth's signals.

`reauthenticated` is sent when a logged-in user re-authenticates (see accounts.reauth), with
request, user, method ("password" or "mfa") and authenticator_type (for "mfa": "totp",
"recovery_codes" or "webauthn"; else None). accounts knows nothing of the activity log: the
activity app connects to it."""

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from allauth.usersessions.models import UserSession
from django.contrib.auth import signals as auth_signals
from django.dispatch import Signal, receiver

from . import alerts, reauth, sessions

reauthenticated = Signal()


@receiver(auth_signals.user_logged_in, dispatch_uid="accounts.logged_in")
def _logged_in(sender, request, user, **kwargs) -> None:
    # Every login, whichever form: the portal's, a passkey, /admin/login/ (and tests' force_login).
    sessions.started(request, user)
    alerts.login_seen(request, user)


@receiver(auth_signals.user_logged_out, dispatch_uid="accounts.logged_out")
def _logged_out(sender, request, user, **kwargs) -> None:
    if request is not None and request.session.session_key:
        UserSession.objects.filter(session_key=request.session.session_key).delete()


@receiver(account_signals.authentication_step_completed, dispatch_uid="accounts.reauthenticated")
def _step_completed(sender, request, user, method, **kwargs) -> None:
    if kwargs.get("reauthenticated"):
        reauthenticated.send(
            sender=sender, request=request, user=user, method=method, authenticator_type=kwargs.get("type")
        )


@receiver(account_signals.password_changed, dispatch_uid="accounts.password_changed")
@receiver(account_signals.password_set, dispatch_uid="accounts.password_set")
@receiver(mfa_signals.authenticator_added, dispatch_uid="accounts.authenticator_added")
@receiver(mfa_signals.authenticator_removed, dispatch_uid="accounts.authenticator_removed")
@receiver(mfa_signals.authenticator_reset, dispatch_uid="accounts.authenticator_reset")
def _credentials_changed(sender, request, user, **kwargs) -> None:
    """A new password or a change of second factors ends every other session of the user."""
    sessions.end_other_sessions(request, user)


@receiver(account_signals.password_changed, dispatch_uid="accounts.password_changed_proof")
@receiver(account_signals.password_set, dispatch_uid="accounts.password_set_proof")
def _password_chosen(sender, request, user, **kwargs) -> None:
    """A password just changed (the current one typed) or set counts as a fresh proof for the
    re-authentication window (accounts.reauth)."""
    if request is not None:
        reauth.proof_record(request, user)


@receiver(account_signals.password_reset, dispatch_uid="accounts.password_reset")
def _password_reset(sender, request, user, **kwargs) -> None:
    # Whoever reset it is not logged in (ACCOUNT_LOGIN_ON_PASSWORD_RESET is off): end them all.
    sessions.end_all_sessions(user)
