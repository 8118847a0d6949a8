"""Two languages, English and Bahasa Indonesia: message catalogues and number and date formats.

Every word collabsim shows people (the command line's tables and messages,
``report.md``, the plots, the app, the policy brief) is written in the code as
an English message id inside ``_()`` (or ``N_()`` where it is looked up later)
and translated from the gettext catalogues in ``collabsim/locale/<lang>/*.po``,
one file per part of the program. Numbers and dates are formatted by Babel
with the language's conventions (Indonesian: 1.148; 86,5; 28 November 2026).

The language is, in order: what the code asks for (``--lang``, the app's
switch, :func:`use_language`), the ``COLLABSIM_LANG`` environment variable,
a ``LANGUAGE``/``LC_ALL``/``LANG`` that starts with ``id``, else English.
``tests/test_i18n.py`` fails when a message of the code is missing from
either language's catalogue.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import math
import os
import re
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Literal

__all__ = [
    "LANGUAGES",
    "N_",
    "Language",
    "Translator",
    "UnknownLanguage",
    "_",
    "catalogue",
    "check_language",
    "default_language",
    "language",
    "marked",
    "placeholders",
    "set_language",
    "translator",
    "use_language",
]

Language = Literal["en", "id"]
LANGUAGES: tuple[Language, ...] = ("en", "id")
"""The languages collabsim speaks."""

LOCALE_DIR = Path(__file__).parent / "locale"
"""The catalogues: ``<lang>/*.po``."""

_BABEL: dict[Language, str] = {"en": "en_GB", "id": "id_ID"}
_PLACEHOLDER = re.compile(r"\{[a-z_0-9]*(?:[:!][^}]*)?\}")
START_DATE = dt.date(2024, 1, 1)
"""The calendar's day 0 (a Monday; see :mod:`collabsim.calendar`)."""


def default_language(strict: bool = False) -> Language:
    """The language from the environment (``COLLABSIM_LANG``, else the locale), else English.

    Args:
        strict: raise an :class:`UnknownLanguage` for a ``COLLABSIM_LANG`` that is not
            a language collabsim speaks; else speak English.
    """
    chosen = os.environ.get("COLLABSIM_LANG", "").strip().lower()
    if chosen in LANGUAGES:
        return check_language(chosen)
    if chosen and strict:
        return check_language(chosen, "COLLABSIM_LANG")
    if chosen:
        return "en"
    for var in ("LANGUAGE", "LC_ALL", "LANG"):
        if os.environ.get(var, "").lower().startswith("id"):
            return "id"
    return "en"


_current: ContextVar[Language | None] = ContextVar("collabsim_language", default=None)


def language() -> Language:
    """The language in use here (see the module's docstring)."""
    return _current.get() or default_language()


@contextlib.contextmanager
def use_language(lang: Language | str | None) -> Iterator[Language]:
    """Speak ``lang`` inside the block (``None``: the default language)."""
    chosen = check_language(lang) if lang is not None else default_language()
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)


def set_language(lang: Language | str) -> Language:
    """Speak ``lang`` from now on in this thread (the command line's ``--lang``)."""
    chosen = check_language(lang)
    _current.set(chosen)
    return chosen


class UnknownLanguage(ValueError):
    """A language collabsim does not speak (the message names where it was asked for)."""


def check_language(lang: str, source: str = "--lang") -> Language:
    """``lang`` as a :data:`Language`; else an :class:`UnknownLanguage` that names ``source``."""
    if lang == "en":
        return "en"
    if lang == "id":
        return "id"
    raise UnknownLanguage(
        _("{source} {value}: expected one of {languages}").format(
            source=source, value=repr(lang), languages=", ".join(LANGUAGES)
        )
    )


@functools.cache
def catalogue(lang: Language) -> dict[str, str]:
    """Every translated message of ``lang``: message id -> text (fuzzy and empty ones left out)."""
    from babel.messages.pofile import read_po

    out: dict[str, str] = {}
    for po in sorted((LOCALE_DIR / lang).glob("*.po")):
        with po.open("rb") as f:
            for message in read_po(f, locale=_BABEL[lang]):
                if message.id and message.string and not message.fuzzy:
                    out[str(message.id)] = str(message.string)
    return out


class Translator:
    """Messages, numbers and dates in one language.

    Args:
        lang: ``en`` or ``id``.
    """

    def __init__(self, lang: Language) -> None:
        """Load the language's catalogue (once per process)."""
        self.lang = lang
        self.locale = _BABEL[lang]
        self._messages = catalogue(lang)

    def _(self, message: str) -> str:
        """The message in this language (the English id where it has no translation)."""
        return self._messages.get(message, message)

    def marked(self, message: str) -> str:
        """A message marked with :func:`N_` where it was written, in this language."""
        return self._messages.get(message, message)

    def number(self, value: float | int | None, digits: int = 2) -> str:
        """A number with the language's separators: ``1.148``, ``86,46`` (Indonesian).

        Integers and whole floats of 100 or more get no decimals; other floats
        ``digits`` decimals; NaN and ``None`` read "n/a" (or its translation).
        """
        from babel.numbers import format_decimal

        if value is None or (isinstance(value, float) and math.isnan(value)):
            return self._("n/a")
        if isinstance(value, bool):
            return self._("yes") if value else self._("no")
        if isinstance(value, int) or (value.is_integer() and abs(value) >= 100):
            return format_decimal(round(value), format="#,##0", locale=self.locale)
        pattern = "#,##0." + "0" * digits if digits > 0 else "#,##0"
        return format_decimal(value, format=pattern, locale=self.locale)

    def short(self, value: float) -> str:
        """A number with at most two decimals and none that are zero (axis ticks): ``0,25``."""
        from babel.numbers import format_decimal

        return format_decimal(value, format="#,##0.##", locale=self.locale)

    def value(self, value: object, digits: int = 2) -> str:
        """A summary value for people: numbers as :meth:`number`, anything else as text."""
        if isinstance(value, int | float) or value is None:
            return self.number(value, digits)
        return str(value)

    def percent(self, share: float, digits: int = 0) -> str:
        """A share as a percentage: ``35%`` (English), ``35%`` (Indonesian, ``35,5%``)."""
        from babel.numbers import format_percent

        if share != share:
            return self._("n/a")
        pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
        return format_percent(share, format=pattern, locale=self.locale)

    def date(self, when: dt.date) -> str:
        """A date in full: ``28 November 2026`` (both languages)."""
        from babel.dates import format_date

        return format_date(when, format="d MMMM y", locale=self.locale)

    def day(self, day: float) -> str:
        """The calendar date of the model's day ``day`` (day 0 is 1 January 2024)."""
        return self.date(START_DATE + dt.timedelta(days=math.floor(day)))


def translator(lang: Language | str | None = None) -> Translator:
    """The translator of ``lang`` (``None``: the language in use, :func:`language`)."""
    return _translator(check_language(lang) if lang is not None else language())


@functools.cache
def _translator(lang: Language) -> Translator:
    return Translator(lang)


def _(message: str) -> str:
    """``message`` in the language in use."""
    return _translator(language()).marked(message)


def marked(message: str) -> str:
    """A message marked with :func:`N_` where it was written, in the language in use."""
    return _translator(language()).marked(message)


def N_(message: str) -> str:
    """Mark ``message`` for the catalogues without translating it yet (it is looked up later)."""
    return message


def placeholders(message: str) -> set[str]:
    """The ``{name}`` fields of a message (a translation must keep the same ones)."""
    return set(_PLACEHOLDER.findall(message))
