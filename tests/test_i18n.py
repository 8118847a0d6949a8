"""Both languages: every message of the code translated, placeholders kept, Babel's formats."""

from __future__ import annotations

import ast
import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from collabsim.i18n import (
    LANGUAGES,
    LOCALE_DIR,
    _,
    catalogue,
    default_language,
    placeholders,
    translator,
    use_language,
)
from collabsim.terms import term

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "collabsim"


def _code_messages() -> set[str]:
    from babel.messages.extract import extract_from_dir

    return {
        msgid
        for _path, _line, msgid, _c, _ctx in extract_from_dir(
            str(PACKAGE), method_map=[("**.py", "python")], keywords={"_": None, "N_": None}
        )
        if isinstance(msgid, str) and msgid
    }


def test_every_message_of_the_code_is_in_both_languages() -> None:
    messages = _code_messages()
    assert len(messages) > 100
    for lang in LANGUAGES:
        known = catalogue(lang)
        missing = sorted(messages - set(known))
        assert not missing, f"{lang}: {len(missing)} untranslated, e.g. {missing[:5]}"
        stale = sorted(set(known) - messages)
        assert not stale, f"{lang}: no longer in the code: {stale[:5]} (tools/update-catalogues)"


def test_translations_keep_the_placeholders() -> None:
    for lang in LANGUAGES:
        for msgid, text in catalogue(lang).items():
            assert placeholders(text) == placeholders(msgid), (lang, msgid, text)


def test_messages_are_literal_strings() -> None:
    """A message built at run time (an f-string, a variable) could never be in a catalogue.

    A message kept in a variable is marked with ``N_`` where it is written and
    translated with ``marked()``.
    """
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name | ast.Attribute)
                and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr)
                in ("_", "N_")
            ):
                assert len(node.args) == 1, f"{path}:{node.lineno}"
                arg = node.args[0]
                assert isinstance(arg, ast.Constant) and isinstance(arg.value, str), (
                    f"{path}:{node.lineno}: the message must be a literal string"
                )


def test_the_catalogues_are_up_to_date_with_the_tool(tmp_path: Path) -> None:
    """Running tools/update-catalogues changes nothing: what is committed is what it writes."""
    before = {p: p.read_bytes() for p in LOCALE_DIR.rglob("*.po")}
    out = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "update-catalogues")],
        capture_output=True,
        text=True,
        check=True,
    )
    after = {p: p.read_bytes() for p in LOCALE_DIR.rglob("*.po")}
    changed = [str(p) for p in set(before) | set(after) if before.get(p) != after.get(p)]
    for p, data in before.items():  # leave the tree as it was
        p.write_bytes(data)
    assert not changed, f"run tools/update-catalogues and commit: {changed}\n{out.stdout}"


def test_indonesian_numbers_and_dates_come_from_babel() -> None:
    t = translator("id")
    assert t.number(1148) == "1.148"
    assert t.number(86.5, 1) == "86,5"
    assert t.number(86.456) == "86,46"
    assert t.number(float("nan")) == "t/a"
    assert t.date(dt.date(2026, 11, 28)) == "28 November 2026"
    assert t.day(0) == "1 Januari 2024"
    e = translator("en")
    assert (e.number(1148), e.number(86.5, 1), e.date(dt.date(2026, 11, 28))) == (
        "1,148",
        "86.5",
        "28 November 2026",
    )


def test_the_language_follows_the_environment_unless_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("COLLABSIM_LANG", raising=False)
    for var in ("LANGUAGE", "LC_ALL", "LANG"):
        monkeypatch.delenv(var, raising=False)
    assert default_language() == "en"
    monkeypatch.setenv("LANG", "id_ID.UTF-8")
    assert default_language() == "id"
    monkeypatch.setenv("COLLABSIM_LANG", "en")
    assert default_language() == "en"
    with use_language("id"):
        assert _("day") == "hari"
    assert _("day") == "day"


def test_domain_terms_are_the_agencies_own() -> None:
    t = translator("id")
    assert term("safe_house", t) == "rumah aman"
    assert term("complaint_post", t) == "pos pengaduan"
    assert term("handling_days_median", t).startswith("lama penanganan kasus")
    assert term("a_key_no_one_knows", t) == "a_key_no_one_knows"
