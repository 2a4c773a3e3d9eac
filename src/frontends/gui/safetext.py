"""Make text from other users harmless to display.

Peers choose every character of their messages and file names. Terminal
escapes, control characters and bidi overrides could make a line lie about
itself (hide text, reorder it, fake a sender); they are shown as the same
visible escapes chat-cli prints (``\\e[2J``, ``\\u202e``, ``\\x07``), from the
one shared function, so a message reads alike in every client and a user can
tell what was sent. Line breaks are kept so that the transcript can indent
continuation lines, which keeps a message from forging a line of its own.
"""

from __future__ import annotations

import unicodedata

from ..text import escape

# Joiners shape emoji and some scripts; they cannot reorder or hide text.
_ALLOWED_FORMAT = frozenset("\u200c\u200d")
_MAX_DISPLAY_CHARS = 20_000


def _unassigned(ch: str) -> str:
    # A code point unassigned in our Unicode may be a control in the sender's:
    # shown escaped, in the shared escape's notation.
    code = ord(ch)
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _line(text: str) -> str:
    if text.isprintable():  # the common case; printable excludes every C* and Z[lp]
        return text
    shown: list[str] = []
    for ch in text:
        if ch in _ALLOWED_FORMAT:
            shown.append(ch)
        elif unicodedata.category(ch) == "Cn":
            shown.append(_unassigned(ch))
        else:
            shown.append(escape(ch))
    return "".join(shown)


def clean(text: str, *, single_line: bool = False) -> str:
    """``text`` with every unsafe character replaced by a visible escape.

    Line breaks stay line breaks, except with ``single_line`` (names), where
    they show as ``\\n`` like every other control character.
    """
    text = text[:_MAX_DISPLAY_CHARS].replace("\r\n", "\n")
    if single_line:
        return _line(text)
    return "\n".join(_line(line) for line in text.split("\n"))
