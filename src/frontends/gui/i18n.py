"""Translations through gettext catalogs in ``locale/<lang>/LC_MESSAGES``.

The language comes from the usual variables (LANGUAGE, LC_ALL, LC_MESSAGES,
LANG), English when none names a language we have a catalog for. To add a
language, copy ``locale/ko/LC_MESSAGES/lanchat-gui.po``, translate it and run
``python scripts/compile_catalogs.py``.
"""

from __future__ import annotations

import gettext
from collections.abc import Sequence
from pathlib import Path

DOMAIN = "lanchat-gui"
LOCALE_DIR = Path(__file__).with_name("locale")

_translations: gettext.NullTranslations = gettext.translation(
    DOMAIN, LOCALE_DIR, fallback=True
)


def use_languages(languages: Sequence[str] | None = None) -> None:
    """Switch language (``None``: from the environment again). Strings
    already on screen keep their language; call before building windows."""
    global _translations
    _translations = gettext.translation(
        DOMAIN, LOCALE_DIR, languages=list(languages) if languages else None, fallback=True
    )


def _(message: str) -> str:
    return _translations.gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    return _translations.ngettext(singular, plural, count)
