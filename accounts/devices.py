"""A person-readable name for a user agent ("Firefox on Windows"): the browser and operating
system families, nothing more, so that a browser update is not a new device."""

import re

from django.utils.translation import gettext as _

# The first pattern that matches names the family; order matters (Edge and Opera say Chrome,
# Chrome says Safari, Android says Linux).
_BROWSERS = [
    (re.compile(r"Edg(e|A|iOS)?/"), "Edge"),
    (re.compile(r"OPR/|Opera"), "Opera"),
    (re.compile(r"Firefox/|FxiOS/"), "Firefox"),
    (re.compile(r"Chrom(e|ium)/|CriOS/|HeadlessChrome/"), "Chrome"),
    (re.compile(r"Safari/"), "Safari"),
    (re.compile(r"^curl/"), "curl"),
    (re.compile(r"python-requests/|^Python"), "Python"),
]
_SYSTEMS = [
    (re.compile(r"Windows"), "Windows"),
    (re.compile(r"iPhone|iPad|iPod"), "iOS"),
    (re.compile(r"Mac OS X|Macintosh"), "macOS"),
    (re.compile(r"Android"), "Android"),
    (re.compile(r"CrOS"), "ChromeOS"),
    (re.compile(r"Linux|X11"), "Linux"),
]


def _family(user_agent: str, patterns: list[tuple[re.Pattern, str]]) -> str | None:
    return next((name for pattern, name in patterns if pattern.search(user_agent)), None)


def describe(user_agent: str) -> str:
    """e.g. "Chrome on Linux", "Safari on iOS", "Unknown browser": always English, as stored
    (KnownDevice, a passkey's suggested name). `label` says the same to a person."""
    browser = _family(user_agent, _BROWSERS)
    system = _family(user_agent, _SYSTEMS)
    if browser and system:
        return f"{browser} on {system}"
    return browser or (f"Browser on {system}" if system else "Unknown browser")


def label(user_agent: str) -> str:
    """describe() in the current language, for pages and mails: German "Chrome unter Linux"."""
    browser = _family(user_agent, _BROWSERS)
    system = _family(user_agent, _SYSTEMS)
    if browser and system:
        return _("%(browser)s on %(system)s") % {"browser": browser, "system": system}
    if browser:
        return browser
    return _("Browser on %(system)s") % {"system": system} if system else _("Unknown browser")
