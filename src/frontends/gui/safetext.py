"""Make text from other users harmless to display.

Peers choose every character of their messages and file names. Terminal
escapes, control characters and bidi overrides could make a line lie about
itself (hide text, reorder it, fake a sender); they are shown as visible
placeholders instead. Line breaks are kept so that the transcript can indent
continuation lines, which keeps a message from forging a line of its own.
"""

from __future__ import annotations

import re
import unicodedata

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), and two-byte ESC x.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]")
#: Shown in place of every escape sequence and of unsafe format characters.
PLACEHOLDER = "\ufffd"
# Joiners shape emoji and some scripts; they cannot reorder or hide text.
_ALLOWED_FORMAT = frozenset("\u200c\u200d")
_MAX_DISPLAY_CHARS = 20_000


def _visible(ch: str) -> str:
    if ch == "\n":
        return ch
    if ch == "\t":
        return "    "
    code = ord(ch)
    category = unicodedata.category(ch)
    if category == "Cc":
        # C0 controls have printable pictures (U+2400...); C1 controls do not.
        if code < 0x20:
            return chr(0x2400 + code)
        return "\u2421" if code == 0x7F else PLACEHOLDER
    if category == "Cf" and ch not in _ALLOWED_FORMAT:
        return PLACEHOLDER
    if category in ("Cs", "Co", "Cn", "Zl", "Zp"):
        return PLACEHOLDER
    return ch


def clean(text: str, *, single_line: bool = False) -> str:
    """``text`` with every unsafe character replaced by a visible one.

    ``single_line`` also turns line breaks into a visible mark, for names.
    """
    text = text[:_MAX_DISPLAY_CHARS]
    text = text.replace("\r\n", "\n")
    text = _ANSI.sub(PLACEHOLDER, text)
    shown = "".join(_visible(ch) for ch in text)
    if single_line:
        shown = shown.replace("\n", "\u21b5")
    return shown
