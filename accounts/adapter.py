"""How django-allauth fits the portal: no self-service sign-up, the portal's client address,
password failures limited by accounts.throttle (not by allauth), and where to go after account
changes."""

import ipaddress

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from allauth.mfa.adapter import DefaultMFAAdapter
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.http import HttpRequest
from django.urls import reverse
from django.utils import translation

from kernel.mail import mail_language, with_html_part
from kernel.net import client_ip

from . import devices, reauth, sealing, stages

UNKNOWN_ADDRESS = "0.0.0.0"  # noqa: S104  (stored for a request without one, e.g. force_login)


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # People get an account by being added to a tenant, never by signing up.
        return False

    def get_client_ip(self, request: HttpRequest) -> str:
        """The address the rate limits and login alerts use (TRUSTED_PROXY_HEADER aware), as
        long as it is an IP address: allauth stores it in an address column."""
        for candidate in (client_ip(request), request.META.get("REMOTE_ADDR", "")):
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                continue
        return UNKNOWN_ADDRESS

    def pre_authenticate(self, request: HttpRequest, **credentials) -> None:
        # The login views count attempts before the password is checked (accounts.throttle,
        # per e-mail and address); allauth's per-e-mail counter would lock an address out
        # from everywhere.
        return None

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """allauth's pages that ask for a re-authentication (the authenticator app, passkeys,
        recovery codes) ask on the portal's rule (accounts.reauth): a fresh login counts as
        much as a re-authentication, so setting up an app right after logging in does not ask
        for the password again."""
        request = context.request
        if request is not None and reauth.recently_authenticated(request):
            return False
        return super().is_reauthentication_required(app=app, **kwargs)

    def get_login_stages(self) -> list[str]:
        # allauth's second-factor step, as one that a trusted identity provider may waive
        # (accounts.stages).
        return [stages.STAGE if path == stages.ALLAUTH_STAGE else path for path in super().get_login_stages()]

    def get_password_change_redirect_url(self, request: HttpRequest) -> str:
        return reverse("my_account")

    def render_mail(self, template_prefix: str, email, context: dict, headers=None) -> EmailMessage:
        # In the recipient's language (their setting; else the page's, for an address without
        # an account). Every mail has a plain-text and an HTML part; allauth's templates are
        # text only.
        with translation.override(mail_language(context.get("user"))):
            mail = super().render_mail(template_prefix, email, context, headers=headers)
        return with_html_part(mail) if isinstance(mail, EmailMultiAlternatives) else mail


class MFAAdapter(DefaultMFAAdapter):
    def _get_site_name(self) -> str:
        # The relying party's name in passkey prompts.
        return "API Key Portal"

    def encrypt(self, text: str) -> str:
        # The authenticator app's key and the recovery codes' seed, sealed with the portal's
        # encryption keys (accounts.sealing).
        return sealing.seal(text)

    def decrypt(self, encrypted_text: str) -> str:
        return sealing.unseal(encrypted_text)

    def generate_authenticator_name(self, user, type) -> str:
        # A new passkey's suggested name: the browser it is added from, e.g. "Chrome on Linux".
        return devices.describe(context.request.headers.get("User-Agent", ""))
