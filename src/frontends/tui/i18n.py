"""The TUI speaks through the GUI's gettext catalogs.

One set of catalogs for both windowed and terminal clients: a string the GUI
has already (``"{user} has entered"``, ``"Everyone"``, ...) is translated once,
and the TUI's own strings are entries of the same ``.po`` files, compiled
with ``python scripts/compile_catalogs.py``. The language comes from the
usual variables (LANGUAGE, LC_ALL, LC_MESSAGES, LANG).
"""

from __future__ import annotations

from ..gui.i18n import DOMAIN, LOCALE_DIR, _, ngettext, use_languages


def participants_text(count: int) -> str:
    """``3 participants``: in English exactly ``chatproto.participant_count_text``
    (the server log's phrase), in Korean the original's ``대화 참여자 3명``."""
    return ngettext("{count} participant", "{count} participants", count).format(count=count)


__all__ = ["DOMAIN", "LOCALE_DIR", "_", "ngettext", "participants_text", "use_languages"]
