"""Log lines that a request cannot forge: control characters that reach a log from a request
(a CR/LF or an ESC decoded from the path, a header value) are written as escapes."""

import re

from gunicorn.glogging import Logger, SafeAtoms

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_controls(text: str) -> str:
    """`text` with every control character written as a Python escape (`\\r`, `\\n`, `\\x1b`,
    `\\u2028`): the result holds no line break and no terminal escape; other text is kept."""
    return _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


class _EscapedAtoms(SafeAtoms):
    def __init__(self, atoms: dict) -> None:
        # As Django escapes its request log: unicode_escape also escapes backslashes and
        # non-ASCII, so an escape in the log cannot be mistaken for text the client sent.
        super().__init__(
            {
                name: value.encode("unicode_escape").decode("ascii") if isinstance(value, str) else value
                for name, value in atoms.items()
            }
        )


class EscapingGunicornLogger(Logger):
    """gunicorn's logger with every access-log field escaped (gunicorn.conf.py)."""

    atoms_wrapper_class = _EscapedAtoms
