"""The German catalogues are complete and compiled (docs/i18n.md): no entry of
locale/<language>/LC_MESSAGES/django.po or djangojs.po is untranslated or fuzzy, and the
committed .mo files say exactly what their .po files say (run `make messages` after editing a
.po). Read with Python's own gettext, so no gettext tools are needed."""

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings

LOCALE = Path(settings.BASE_DIR) / "locale"
CATALOGUES = sorted(LOCALE.glob("*/LC_MESSAGES/*.po"))


def entries(po: Path) -> list[dict]:
    """Every entry of `po` as {"flags", "msgctxt", "msgid", "msgid_plural", "msgstr": {index: text}}."""
    found = []
    for block in re.split(r"\n\s*\n", po.read_text(encoding="utf-8")):
        entry: dict = {"flags": set(), "msgstr": {}}
        field = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"].update(flag.strip() for flag in line[2:].split(","))
            elif line.startswith("#~"):  # obsolete: not in the catalogue
                entry = {}
                break
            elif line.startswith("#") or not line.strip():
                continue
            else:
                match = re.match(r"^(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(\".*\")$", line)
                if match:
                    name, index, text = match.groups()
                    field = (name, int(index or 0))
                else:
                    text = line
                value = ast.literal_eval(text)
                name, index = field
                if name == "msgstr":
                    entry["msgstr"][index] = entry["msgstr"].get(index, "") + value
                else:
                    entry[name] = entry.get(name, "") + value
        if entry and "msgid" in entry:
            found.append(entry)
    return found


def po_catalogue(po: Path) -> dict:
    """What Python's gettext reads from the compiled file, worked out from the .po."""
    catalogue = {}
    for entry in entries(po):
        if "fuzzy" in entry["flags"] and entry["msgid"]:
            continue
        key = entry["msgid"] if "msgctxt" not in entry else f"{entry['msgctxt']}\x04{entry['msgid']}"
        if "msgid_plural" in entry:
            for index, text in entry["msgstr"].items():
                if text:
                    catalogue[(key, index)] = text
        elif entry["msgstr"].get(0):
            catalogue[key] = entry["msgstr"][0]
    return catalogue


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda po: str(po.relative_to(LOCALE)))
def test_every_entry_is_translated_and_none_is_fuzzy(po):
    problems = []
    for entry in entries(po):
        if not entry["msgid"]:
            continue  # the header
        name = entry["msgid"][:70]
        if "fuzzy" in entry["flags"]:
            problems.append(f"fuzzy: {name!r}")
        if not entry["msgstr"] or not all(entry["msgstr"].values()):
            problems.append(f"untranslated: {name!r}")
    assert not problems, f"{po.relative_to(LOCALE)}:\n" + "\n".join(problems)


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda po: str(po.relative_to(LOCALE)))
def test_the_committed_mo_file_matches_its_po(po):
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo.relative_to(LOCALE)} is missing: run `make messages`"
    with mo.open("rb") as file:
        compiled = gettext.GNUTranslations(file)._catalog
    compiled = {key: text for key, text in compiled.items() if key != ""}
    expected = {key: text for key, text in po_catalogue(po).items() if key != ""}
    stale = sorted(str(key)[:70] for key in expected.keys() ^ compiled.keys())
    stale += sorted(str(key)[:70] for key in expected.keys() & compiled.keys() if expected[key] != compiled[key])
    assert not stale, f"{mo.relative_to(LOCALE)} is stale against its .po (run `make messages`): {stale[:10]}"


def test_there_is_a_german_catalogue():
    assert LOCALE / "de" / "LC_MESSAGES" / "django.po" in CATALOGUES


def test_the_checks_notice_a_fuzzy_or_empty_entry(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        '#, fuzzy, python-format\nmsgid "Save"\nmsgstr "Speichern"\n\n'
        'msgid "Cancel"\nmsgstr ""\n\n'
        'msgctxt "status"\nmsgid "On"\nmsgstr "An"\n\n'
        'msgid "%(n)s key"\nmsgid_plural "%(n)s keys"\nmsgstr[0] "%(n)s Schlüssel"\nmsgstr[1] ""\n',
        encoding="utf-8",
    )
    found = {entry["msgid"]: entry for entry in entries(po)}
    assert "fuzzy" in found["Save"]["flags"] and found["Cancel"]["msgstr"] == {0: ""}
    assert found["%(n)s key"]["msgstr"] == {0: "%(n)s Schlüssel", 1: ""}
    catalogue = {key: text for key, text in po_catalogue(po).items() if key != ""}
    assert catalogue == {"status\x04On": "An", ("%(n)s key", 0): "%(n)s Schlüssel"}
