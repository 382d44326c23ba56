"""Log lines that a request cannot forge: control characters that reach a log from a request
(a CR/LF or an ESC decoded from the path, a header value) are written as escapes. And log lines
that hold no credential: the keys of password-reset links, which travel in the path, are hidden."""

import re

from gunicorn.glogging import Logger, SafeAtoms

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_controls(text: str) -> str:
    """`text` with every control character written as a Python escape (`\\r`, `\\n`, `\\x1b`,
    `\\u2028`): the result holds no line break and no terminal escape; other text is kept."""
    return _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


# The password-reset links carry their key in the path (accounts/urls.py): allauth's
# /accounts/password/reset/key/<uidb36>-<key>/ in reset mails, Django's
# /accounts/password/reset/<uidb64>/<token>/ in welcome mails. Whoever reads one can choose the
# account's password until it changes. Both views redirect at once to the same path with
# "set-password" in the key's place, which is kept. deploy/nginx/ hides them the same way.
RESET_LINK_PREFIX = "/accounts/password/reset/"
_RESET_LINK = re.compile(
    r"(/accounts/password/reset/(?:key/[0-9A-Za-z]+-|(?!key/)[^/]+/))(?!set-password/?$)([^/].*?)(/?)",
    re.DOTALL,
)
HIDDEN = "[hidden]"


def hide_reset_keys(path: str) -> str:
    """`path` with a password-reset link's key replaced by "[hidden]"; other paths unchanged."""
    match = _RESET_LINK.fullmatch(path) if path.startswith(RESET_LINK_PREFIX) else None
    return f"{match[1]}{HIDDEN}{match[3]}" if match else path


class _EscapedAtoms(SafeAtoms):
    def __init__(self, atoms: dict) -> None:
        if isinstance(atoms.get("U"), str):  # the path (the access log has no query string)
            atoms = {**atoms, "U": hide_reset_keys(atoms["U"])}
        # As Django escapes its request log: unicode_escape also escapes backslashes and
        # non-ASCII, so an escape in the log cannot be mistaken for text the client sent.
        super().__init__(
            {
                name: value.encode("unicode_escape").decode("ascii") if isinstance(value, str) else value
                for name, value in atoms.items()
            }
        )


# A query string in a message of gunicorn's own: up to the next space or quote.
_QUERY = re.compile(r"\?[^\s'\"]*")


def hide_queries(text: str) -> str:
    """`text` with every query string written "?[hidden]" (refresh tokens travel in them)."""
    return _QUERY.sub("?[hidden]", text)


class EscapingGunicornLogger(Logger):
    """gunicorn's logger (gunicorn.conf.py) with every access-log field escaped, and no query
    string in its own warnings and errors: it quotes a request line it cannot parse, and the
    URI of a request whose handling failed, whole."""

    atoms_wrapper_class = _EscapedAtoms

    def warning(self, msg, *args, **kwargs) -> None:
        super().warning(hide_queries(str(msg) % args if args else str(msg)), **kwargs)

    def exception(self, msg, *args, **kwargs) -> None:
        super().exception(hide_queries(str(msg) % args if args else str(msg)), **kwargs)
