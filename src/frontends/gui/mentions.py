"""Whether a message names the user: ``@frog``, ``@Frog,``, or ``@frog`` typed
in fullwidth forms by an input method.

A mention is an at sign, not glued to a word before it (``me@frog.example``
is an address), followed by the longest run of characters a user name can
have (letters, digits, combining marks, ``_`` and ``-``); it names the user
when that run is the same name as theirs, compared as the server compares
names (``username_skeleton``: case and compatibility forms folded). So
``@frog's`` and ``(@FROG)`` name frog, ``@frogger`` does not.
"""

from __future__ import annotations

import unicodedata

from chatproto import username_skeleton

AT_SIGNS = frozenset("@\uff20")  # and the fullwidth one an IME types


def _in_name(char: str) -> bool:
    return char.isalnum() or char in "_-" or unicodedata.category(char).startswith("M")


def mentions(text: str, name: str) -> bool:
    """True when ``text`` contains a mention of ``name``."""
    if not name or not any(sign in text for sign in AT_SIGNS):
        return False
    wanted = username_skeleton(name)
    end = len(text)
    for start, char in enumerate(text):
        if char not in AT_SIGNS or (start > 0 and _in_name(text[start - 1])):
            continue
        stop = start + 1
        while stop < end and _in_name(text[stop]):
            stop += 1
        if stop > start + 1 and username_skeleton(text[start + 1:stop]) == wanted:
            return True
    return False
