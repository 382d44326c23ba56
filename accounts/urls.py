"""Account pages under /accounts/: allauth's views under the portal's URL names (login, logout,
password_change, password_reset, ...) and allauth's own (account_*, mfa_*), My Account and its
session actions. Paths with two names are one view."""

from allauth.account import views as account
from allauth.mfa.webauthn import views as webauthn
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path, re_path

from . import views


def both(route: str, view, *names: str) -> list:
    return [path(route, view, name=name) for name in names]


urlpatterns = [
    path("", views.my_account, name="my_account"),
    *both("login/", views.login, "login", "account_login"),
    *both("logout/", account.logout, "logout", "account_logout"),
    path("inactive/", account.account_inactive, name="account_inactive"),
    path("reauthenticate/", account.reauthenticate, name="account_reauthenticate"),
    path("reauthenticate/status/", views.reauth_status, name="reauth_status"),
    *both("password/change/", account.password_change, "password_change", "account_change_password"),
    path("password/change/done/", views.password_change_done, name="password_change_done"),
    path("password/set/", account.password_set, name="account_set_password"),
    *both("password/reset/", account.password_reset, "password_reset", "account_reset_password"),
    *both("password/reset/done/", account.password_reset_done, "password_reset_done", "account_reset_password_done"),
    path("password/reset/key/done/", account.password_reset_from_key_done, name="account_reset_password_from_key_done"),
    re_path(
        r"^password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$",
        account.password_reset_from_key,
        name="account_reset_password_from_key",
    ),
    # The links in welcome mails (tenants.forms.WelcomeMailForm) carry Django's reset token.
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password/reset/complete/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("time-zone/", views.time_zone_set, name="time_zone_set"),
    path("language/", views.language_set, name="language_set"),
    path("sessions/end-others/", views.sessions_end_others, name="sessions_end_others"),
    path("sessions/<int:session_id>/end/", views.session_end, name="session_end"),
    # Before allauth's MFA URLs: its overview is My Account, the second factor page is the
    # portal's, and the passkey login is public.
    path("2fa/", views.mfa_index, name="mfa_index"),
    path("2fa/authenticate/", views.authenticate, name="mfa_authenticate"),
    path("2fa/webauthn/login/", login_not_required(webauthn.login_webauthn), name="mfa_login_webauthn"),
    path("2fa/", include("allauth.mfa.urls")),
]
