"""The one way the portal mails tenant admins. Every notification goes through
`notify_tenant_admins`, which skips admins who opted out of its kind (OptOut, set on My
Account) and sends each admin their own mail with a plain-text and an HTML part, rendered
from templates/notifications/<kind>.txt and .html (the subject is the first line of the .txt),
or from another `template` pair with an explicit `subject`. Every mail ends with where to turn
its kind off (templates/notifications/_footer.txt and _footer.html).

    notify_tenant_admins(tenant=tenant, kind=WEBHOOK_FAILING, context={"endpoint": endpoint})

Mail goes through Django's configured backend (docs/configuration.md, "E-mail"); a mail server that fails
raises, so callers decide whether the action that notifies may go on without it."""

import logging
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from kernel.mail import absolute_url, mail_language, one_line
from tenants.models import Role, Tenant

from .kinds import KINDS, Kind
from .models import OptOut

logger = logging.getLogger(__name__)
SUBJECT_PREFIX = "[API Key Portal] "
SUBJECT_LIMIT = 150  # characters after the prefix


def render_mail(
    *,
    kind: Kind,
    to: str,
    context: dict,
    template: str | None = None,
    subject: "str | Callable[[], str] | None" = None,
    language: str | None = None,
) -> EmailMultiAlternatives:
    """One mail of `kind` to `to`: text from <template>.txt (default notifications/<kind>),
    whose first line is the subject unless `subject` is given, and HTML from <template>.html;
    both end with the opt-out footer. In `language` (the recipient's, kernel.mail.mail_language),
    else the current one. A `subject` that depends on the language is given as a function that
    makes it (e.g. `lambda: ngettext(...) % {...}`): it is called in that language."""
    with translation.override(language or translation.get_language()):
        return _render_mail(kind=kind, to=to, context=context, template=template, subject=subject)


def _render_mail(
    *, kind: Kind, to: str, context: dict, template: str | None, subject: "str | Callable[[], str] | None"
) -> EmailMultiAlternatives:
    template = template or f"notifications/{kind.code}"
    context = {"account_url": absolute_url(reverse("my_account")) + "#notifications", **context, "kind": kind}
    text = render_to_string(f"{template}.txt", context).strip()
    if subject is None:
        subject, _, text = text.partition("\n")
    elif callable(subject):  # made here, in the recipient's language
        subject = subject()
    text = text.strip() + "\n\n" + render_to_string("notifications/_footer.txt", context).strip() + "\n"
    html = render_to_string(f"{template}.html", context)
    footer = render_to_string("notifications/_footer.html", context)
    html = html.replace("</body>", footer + "</body>") if "</body>" in html else html + footer
    # Subjects carry names people chose (a tenant's, a key's): one line, bounded.
    mail = EmailMultiAlternatives(
        SUBJECT_PREFIX + one_line(subject, SUBJECT_LIMIT), text, settings.DEFAULT_FROM_EMAIL, [to]
    )
    mail.attach_alternative(html, "text/html")
    return mail


def recipients(*, tenant: Tenant, kind: Kind) -> list[User]:
    """The tenant's admins who have not opted out of `kind` (one query)."""
    return list(
        User.objects.filter(memberships__tenant=tenant, memberships__role=Role.ADMIN, is_active=True)
        .exclude(notification_opt_outs__kind=kind.code)
        .order_by("email")
    )


def notify_tenant_admins(
    *,
    tenant: Tenant,
    kind: Kind,
    context: dict,
    template: str | None = None,
    subject: "str | Callable[[], str] | None" = None,
) -> int:
    """Mail every admin of `tenant` who wants `kind`, each their own; how many mails were sent.
    A mail server that fails raises (smtplib's or the backend's error)."""
    users = recipients(tenant=tenant, kind=kind)
    mails = [
        render_mail(
            kind=kind,
            to=user.email,
            context={**context, "tenant": tenant, "user": user},
            template=template,
            subject=subject,
            language=mail_language(user),
        )
        for user in users
    ]
    if not mails:
        return 0
    sent = get_connection().send_messages(mails) or 0
    logger.info("notification %s for tenant %s sent to %d admin(s)", kind.code, tenant.code, sent)
    return sent


def preferences_for(user: User) -> list[tuple[Kind, bool]]:
    """Every kind with whether `user` gets it, for My Account."""
    off = set(OptOut.objects.filter(user=user).values_list("kind", flat=True))
    return [(kind, kind.code not in off) for kind in KINDS.values()]


@transaction.atomic
def preferences_set(*, user: User, wanted: Iterable[str]) -> None:
    """`user` gets the kinds in `wanted` and none of the others (unknown codes are ignored)."""
    wanted = set(wanted)
    OptOut.objects.filter(user=user).exclude(kind__in=[code for code in KINDS if code not in wanted]).delete()
    OptOut.objects.bulk_create(
        [OptOut(user=user, kind=code) for code in KINDS if code not in wanted], ignore_conflicts=True
    )
