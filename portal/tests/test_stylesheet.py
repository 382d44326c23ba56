"""static/css/portal.css stays one sheet that reads top to bottom: every class a template or
script gives an element is styled there (or is a hook listed below), a selector is written
once per media block, and colours are custom properties of `:root`."""

import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CSS = (ROOT / "static" / "css" / "portal.css").read_text(encoding="utf-8")

# Classes that are hooks rather than looks: what tests or allauth select by.
HOOKS = {
    "mfa-status",  # tenants/tests/test_mfa_policy.py counts the Members page's cells
    "scope-group",  # apikeys/tests/test_browser_key_dialogs.py finds a key's services by it
    "bar",  # usage/tests/test_browser_usage.py counts a chart's bars
    "spark-total",  # usage/tests/test_key_list_usage.py reads a key's calls in 24 hours
    "c",  # the chart's `c{{ style }}`: .chart .c0 to .c5, one colour per outcome
}
# A colour written out: ::backdrop inherits no custom properties in older browsers, and a QR
# code stays black on white whatever the colours around it.
LITERAL_COLOURS = {".dialog::backdrop", ".qr img"}


def _without_comments(css: str) -> str:
    return re.sub(r"/\*.*?\*/", "", css, flags=re.S)


def _rules(css: str) -> list[tuple[tuple[str, ...], str, str]]:
    """(enclosing at-rules, selector list, declarations) of every rule."""
    rules, stack, text = [], [], ""
    for char in _without_comments(css):
        if char == "{":
            stack.append(" ".join(text.split()))
            text = ""
        elif char == "}":
            selector = stack.pop()
            if not selector.startswith("@"):
                rules.append((tuple(stack), selector, text.strip()))
            text = ""
        else:
            text += char
    return rules


def _used_classes() -> set[str]:
    used: set[str] = set()
    for path in (ROOT / "templates").rglob("*.html"):
        for value in re.findall(r'class="([^"]*)"', path.read_text(encoding="utf-8")):
            # Template tags inside the attribute: keep the literal words they choose between.
            value = re.sub(r"\{\{.*?\}\}", " ", value)
            value = re.sub(r"\{%.*?%\}", " ", value)
            used.update(word for word in value.split() if not word.endswith("-"))
    for path in (ROOT / "static" / "js").glob("*.js"):
        source = path.read_text(encoding="utf-8")
        for call in re.findall(r'classList\.(?:add|toggle)\(\s*"([\w-]+)"', source):
            used.add(call)
        for names in re.findall(r'make\(\s*"\w+"\s*,\s*"([^"]+)"', source):
            used.update(names.split())
    return used


def test_every_class_given_to_an_element_is_styled_or_a_hook():
    styled = set(re.findall(r"\.([A-Za-z][\w-]*)", _without_comments(CSS)))
    assert sorted(_used_classes() - styled - HOOKS) == []


def test_a_selector_is_written_once_per_media_block():
    # A rule for a group (`.a, .a b { ... }`) and one for a member of it may stand together.
    alone = Counter((media, selector) for media, selector, _ in _rules(CSS) if "," not in selector)
    assert [key for key, count in alone.items() if count > 1] == []


def test_colours_are_custom_properties():
    colour = re.compile(r"#[0-9a-fA-F]{3,8}\b|rgba?\(|hsla?\(")
    written_out = [
        selector
        for _, selector, declarations in _rules(CSS)
        if selector != ":root" and selector not in LITERAL_COLOURS and colour.search(declarations)
    ]
    assert written_out == []
