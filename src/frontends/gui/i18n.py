"""Translations through gettext catalogs in ``locale/<lang>/LC_MESSAGES``.

The language comes from the usual variables (LANGUAGE, LC_ALL, LC_MESSAGES,
LANG), English when none names a language we have a catalog for. To add a
language, copy ``locale/ko/LC_MESSAGES/lanchat-gui.po``, translate it and run
``python scripts/compile_catalogs.py``.

Tk's own file and folder pickers translate their buttons with Tcl's msgcat,
from message files Tk ships; Tk 8.6 ships none for Korean (nor for most
languages), so ``localize_tk`` gives Tk the translations of its strings
from our catalog, and the pickers speak the window's language.
"""

from __future__ import annotations

import gettext
import tkinter as tk
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


def _tk_messages() -> tuple[tuple[str, str], ...]:
    """(Tk's message, its translation) for the strings of Tk's file and
    folder pickers; written out with ``_`` so the catalog tools find them."""
    return (
        ("&Open", _("&Open")),
        ("&Save", _("&Save")),
        ("Open", _("Open")),
        ("Save As", _("Save As")),
        ("&OK", _("&OK")),
        ("&Cancel", _("&Cancel")),
        ("File &name:", _("File &name:")),
        ("File &names:", _("File &names:")),
        ("Files of &type:", _("Files of &type:")),
        ("&Directory:", _("&Directory:")),
        ("&Selection:", _("&Selection:")),
        ("Choose Directory", _("Choose Directory")),
        ("All Files", _("All Files")),
        ("Show &Hidden Files and Directories", _("Show &Hidden Files and Directories")),
        ("Show &Hidden Directories", _("Show &Hidden Directories")),
        ('File "%1$s"  does not exist.', _('File "%1$s"  does not exist.')),
        ('Directory "%1$s" does not exist.', _('Directory "%1$s" does not exist.')),
        ('Invalid file name "%1$s".', _('Invalid file name "%1$s".')),
        ('Cannot change to the directory "%1$s".\nPermission denied.',
         _('Cannot change to the directory "%1$s".\nPermission denied.')),
    )


def language() -> str:
    """The language of the catalog in use (``ko``), empty for English."""
    return _translations.info().get("language", "")


def localize_tk(root: tk.Misc) -> None:
    """Make Tk's own dialogs speak our language (no-op in English, where
    Tk keeps its own choice)."""
    lang = language().lower().replace("-", "_")
    if not lang:
        return
    for message, translated in _tk_messages():
        # mcset files a translation under the namespace that calls it: Tk's.
        root.tk.call("namespace", "eval", "::tk", ("::msgcat::mcset", lang, message, translated))
    root.tk.call("::msgcat::mclocale", lang)
