"""Peer text made safe for a terminal, shared by chat-cli and chat-tui.

Peers choose every character of their messages, names and file names.
Control characters, ANSI escapes, bidi overrides and line separators could
make a line lie about itself (repaint the screen, reorder text, start a line
that looks like another user's), so they are shown as visible escapes
(``\\e``, ``\\u202e``, ``\\r``) instead, never sent raw to the terminal.
"""

from __future__ import annotations

import unicodedata

_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co"})
_NAMED = {"\t": "\\t", "\r": "\\r", "\n": "\\n", "\x1b": "\\e"}


def _escape_char(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def escape(text: str) -> str:
    """``text`` with every control, format and line-separator character
    (newlines included) replaced by a visible escape such as ``\\e``."""
    return "".join(
        _escape_char(ch) if unicodedata.category(ch) in _UNSAFE_CATEGORIES else ch
        for ch in text
    )


__all__ = ["escape"]
