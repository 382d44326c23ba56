"""Mail helpers that know no domain: an HTML part for mail written as plain text, and absolute
links for mails. The notifications app, allauth's account mails (accounts.adapter) and the
invitations (tenants.services) all use these."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils.html import linebreaks, urlize


def absolute_url(path: str) -> str:
    """A link for a mail: PORTAL_URL (the portal's public origin) and `path`."""
    return settings.PORTAL_URL + path


def html_from_text(text: str) -> str:
    """An HTML part for a mail written as plain text (invitations, allauth's account mails):
    the text escaped, its links made links, its blank lines paragraphs."""
    body = linebreaks(urlize(text.strip(), autoescape=True), autoescape=False)
    return render_to_string("notifications/_plain.html", {"body": body})


def with_html_part(mail: EmailMultiAlternatives) -> EmailMultiAlternatives:
    """`mail` with an HTML part made from its text, unless it has one."""
    if not any(mimetype == "text/html" for _, mimetype in mail.alternatives):
        mail.attach_alternative(html_from_text(mail.body), "text/html")
    return mail
