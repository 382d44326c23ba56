"""Mail helpers that know no domain: an HTML part for mail written as plain text, and absolute
links for mails. The notifications app, allauth's account mails (accounts.adapter) and the
invitations (tenants.services) all use these."""

import unicodedata

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import linebreaks, urlize


def absolute_url(path: str) -> str:
    """A link for a mail: PORTAL_URL (the portal's public origin) and `path`."""
    return settings.PORTAL_URL + path


def mail_language(user: object | None = None) -> str:
    """The language to write a mail to `user` in (docs/i18n.md): their My Account setting, else
    the current one (the page that sends it: the inviter's for someone without an account),
    else English (a background job). Render the whole mail, subject included, inside
    `translation.override(mail_language(user))`."""
    return getattr(user, "language", "") or translation.get_language() or settings.LANGUAGE_CODE


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


# Unicode categories that show nothing, or break a line, in a subject or a line of text:
# controls (CR, LF, TAB, NUL, ...), format characters (bidi overrides such as U+202E,
# zero-width spaces and joiners), private-use, surrogates, unassigned, line and paragraph
# separators.
_HIDDEN = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})


def has_hidden_characters(text: str) -> bool:
    """True if `text` has a character that shows nothing or breaks a line (see _HIDDEN);
    spaces of any width are not such characters."""
    return any(unicodedata.category(char) in _HIDDEN for char in text)


def one_line(text: str, limit: int | None = None) -> str:
    """`text` as one line of plain text for a mail subject or a sentence: hidden characters
    dropped (any whitespace among them counts as a space), runs of whitespace made one space,
    and at most `limit` characters, a cut marked with an ellipsis. A value people choose (a
    tenant's display name) can then neither add a header line nor hide or reorder text."""
    kept = "".join(
        " " if char.isspace() else char for char in text if char.isspace() or unicodedata.category(char) not in _HIDDEN
    )
    line = " ".join(kept.split())
    if limit is not None and len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return line
