"""The README and docs/ hold together: every relative link resolves (the file exists, and an
`#anchor` into a markdown file names one of its headings, slugged as GitHub slugs them), and the
README stays short enough to be read as the way in."""

import re
import unicodedata
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[2]
README_MAX_LINES = 300

# [text](target) and ![alt](target); the target ends at the first space (a "title" may follow).
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks (a `# comment` in a shell sample is no heading, and
    a link-shaped string in code is no link)."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: markup dropped, lower-cased, punctuation removed (letters,
    digits, spaces, hyphens and underscores kept), spaces turned into hyphens."""
    text = CODE_SPAN.sub(lambda m: m.group(2), heading)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link keeps its text
    text = re.sub(r"[*_]{1,3}([^*_]+)[*_]{1,3}", r"\1", text)  # emphasis
    text = text.strip().lower()
    kept = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN")
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every anchor GitHub gives the headings of `path` (repeats get -1, -2, ...)."""
    seen: dict[str, int] = {}
    found = set()
    for line in prose_lines(path.read_text()):
        match = HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def relative_links(path: Path) -> list[str]:
    targets = []
    for line in prose_lines(path.read_text()):
        line = CODE_SPAN.sub("", line)  # `[x](y)` in a code span is text, not a link
        targets += [m.group(1) for m in LINK.finditer(line)]
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", t, re.I)]  # http:, mailto:


def broken_links(path: Path) -> list[tuple[str, str]]:
    """(target, what is wrong) for every relative link of `path` that does not resolve."""
    broken = []
    for target in relative_links(path):
        file_part, _, anchor = target.partition("#")
        resolved = (path.parent / unquote(file_part)).resolve() if file_part else path
        if not resolved.exists():
            broken.append((target, "no such file"))
        elif anchor and resolved.suffix == ".md" and unquote(anchor) not in anchors(resolved):
            broken.append((target, f"no heading with that anchor in {resolved.name}"))
    return broken


@pytest.mark.parametrize("path", documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(path):
    assert broken_links(path) == []


def test_the_readme_is_short():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= README_MAX_LINES


def test_the_readme_leads_into_every_document():
    linked = {
        (ROOT / t.partition("#")[0]).resolve() for t in relative_links(ROOT / "README.md") if t.startswith("docs/")
    }
    missing = [p.name for p in sorted((ROOT / "docs").glob("*.md")) if p.resolve() not in linked]
    assert missing == []


# The checker itself: a broken link, a wrong anchor and code that only looks like a link.


def test_slugs_follow_github():
    assert slug("The serving model, and why") == "the-serving-model-and-why"
    assert slug("Token info and protecting a Django view") == "token-info-and-protecting-a-django-view"
    assert slug("What `make run` prints") == "what-make-run-prints"
    assert slug("Re-authentication") == "re-authentication"


def test_the_checker_finds_broken_links_and_wrong_anchors(tmp_path):
    (tmp_path / "other.md").write_text("# Other\n\n## A section, here\n\n```sh\n# not a heading\n```\n")
    doc = tmp_path / "doc.md"
    doc.write_text(
        "# Doc\n\n## Mine\n\n"
        "[ok](other.md#a-section-here) [self](#mine) [web](https://example.com/x.md#nope)\n"
        "[gone](missing.md) [bad anchor](other.md#not-a-heading) [own](#nowhere)\n"
        "`[in code](missing-too.md)`\n\n```\n[in a block](missing-three.md)\n```\n"
    )
    assert broken_links(doc) == [
        ("missing.md", "no such file"),
        ("other.md#not-a-heading", "no heading with that anchor in other.md"),
        ("#nowhere", "no heading with that anchor in doc.md"),
    ]
