"""Text and bytes for the JavaScript corpus: user names, file names, SHA-256 inputs, and
the Unicode 14.0 tables that ``chatproto.js`` embeds (rendered from chatproto's own).

``chatproto.js`` judges user names and cleans file names with the tables of
``chatproto._names_data`` and ``unicodedata`` (Unicode 14.0 in Python 3.11), not with the
JavaScript engine's newer Unicode: ``render_js_tables`` writes them as the block between
the ``BEGIN GENERATED: unicode-tables`` markers, and ``test_chatproto_js.py`` fails when
the file and this rendering differ (``python tests/web/corpus.py --tables`` rewrites it).
"""

from __future__ import annotations

import bisect
import hashlib
import json
import random
import unicodedata
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from chatproto import _names_data as data
from chatproto.files import sanitize_filename
from chatproto.limits import truncate_utf8
from chatproto.names import username_problem, username_skeleton
from chatproto.targets import is_general
from proto.strategies import filenames, usernames
from web.corpus import draw

CHATPROTO_JS = Path(__file__).resolve().parents[2] / "src" / "frontends" / "web" / "chatproto.js"
BEGIN = "// BEGIN GENERATED: unicode-tables (tests/web/corpus.py --tables; do not edit)\n"
END = "// END GENERATED: unicode-tables\n"

#: Characters whose Python case folding is not their lowercase (ß, ς, Cherokee...).
#: Everything else folds as String.prototype.toLowerCase does.
_UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def _deltas(values: list[int]) -> str:
    previous = 0
    out = []
    for value in values:
        out.append(_base36(value - previous))
        previous = value
    return ",".join(out)


def _js_string(name: str, text: str, width: int = 96) -> str:
    lines = [json.dumps(text[i : i + width]) for i in range(0, len(text), width)] or ['""']
    return f"const {name} =\n  " + " +\n  ".join(lines) + ";\n"


def _js_list(name: str, items: list[str], width: int = 96) -> str:
    lines, line = [], ""
    for item in items:
        if line and len(line) + len(item) + 1 > width:
            lines.append(line)
            line = ""
        line += item + ","
    return f"const {name} = [\n  " + "\n  ".join([*lines, line]) + "\n];\n"


def _ranges(predicate: Any) -> list[tuple[int, int]]:
    found: list[tuple[int, int]] = []
    start = None
    for cp in range(0x110001):
        inside = cp < 0x110000 and predicate(cp)
        if inside and start is None:
            start = cp
        elif not inside and start is not None:
            found.append((start, cp - 1))
            start = None
    return found


def _mask(cp: int) -> int:
    return data.MASKS[data.INFO[bisect.bisect_right(data.STARTS, cp) - 1] >> 3]


def render_js_tables() -> str:
    masks = ",".join("-1" if m == -1 else format(m, "x") for m in data.MASKS)
    zeros = [cp for cp in range(0x110000)
             if unicodedata.category(chr(cp)) == "Nd" and unicodedata.decimal(chr(cp)) == 0]
    folds = [[cp, chr(cp).casefold()] for cp in range(0x110000)
             if not 0xD800 <= cp <= 0xDFFF and chr(cp).casefold() != chr(cp).lower()]
    unsafe = _ranges(lambda cp: unicodedata.category(chr(cp)) in _UNSAFE_CATEGORIES)
    return "".join([
        BEGIN,
        f'export const UNICODE_VERSION = "{data.UNICODE_VERSION}";\n',
        _js_string("UNICODE_SCRIPTS", " ".join(data.SCRIPTS)),
        "// Ranges of code points: the first of each (deltas, base 36), its kind and mask index\n",
        "// (kind | mask << 3, base 36), the script masks (hex; -1 every script, 0 unassigned).\n",
        _js_string("NAME_STARTS", _deltas(list(data.STARTS))),
        _js_string("NAME_INFO", ",".join(_base36(i) for i in data.INFO)),
        _js_string("NAME_MASKS", masks),
        "// The zero of every run of decimal digits (deltas, base 36).\n",
        _js_string("DIGIT_ZEROS", _deltas(zeros)),
        "// [code point, full case folding] where it is not the lowercase.\n",
        _js_list("CASEFOLD_EXTRA", [json.dumps(f, separators=(",", ":")) for f in folds]),
        "// Categories Cc Cf Cs Co Zl Zp: dropped from file names (hex ranges).\n",
        _js_string("UNSAFE_FILENAME_RANGES",
                   ",".join(f"{lo:x}-{hi:x}" if hi > lo else f"{lo:x}" for lo, hi in unsafe)),
        END,
    ])


def tables_in_file() -> str | None:
    text = CHATPROTO_JS.read_text(encoding="utf-8")
    start, end = text.find(BEGIN), text.find(END)
    return None if start < 0 or end < 0 else text[start : end + len(END)]


def write_js_tables() -> None:
    text = CHATPROTO_JS.read_text(encoding="utf-8")
    current = tables_in_file()
    rendered = render_js_tables()
    text = text.replace(current, rendered) if current else text.rstrip("\n") + "\n\n" + rendered
    CHATPROTO_JS.write_text(text, encoding="utf-8")


# -- user names ------------------------------------------------------------------------------

_SPECIAL_NAMES = (
    "", "a", "A" * 32, "a" * 33, "_-", "bob", "Bob", "\uff42\uff4f\uff42",
    "\uff27\uff25\uff2e\uff25\uff32\uff21\uff2c", "General", "general", "Stra\xdfe", "STRASSE",
    "\u1e9e", "\xdf", "\ufb01", "\u01c5", "\u0130stanbul", "\u0131i", "\u0149", "\u01f0", "\uab70",
    "\u13a0", "\u1ffc", "\u03c2", "\uac1c\uad6c\ub9ac", "\uac00" * 32, "\uac00" * 33,
    "ab\u6f22\u5b57\u30ab\u30ca", "abc\ud55c\uad6d\uc5b4", "ab\u6f22\u5b57\ud55c", "\u03a9mega",
    "b\u043eb", "a\u0661\u0662", "a12", "a1\u0662", "\U0001d7cf\U0001d7d0", "\U0001d7cf2",
    "\U0001d400bc", "e\u0301", "\xe9", "e\u0301\u0301", "a\u0300\u0301\u0302\u0303",
    "a\u0300\u0301\u0302\u0303\u0304", "\u0301a", "_\u0301", "1\u0301", "\u02bcx", "x\u02cd",
    "\u3164", "a\u3164", "\u1100\u1161", "\u3131", "a\u200bb", "\ufeffbob", "bob\u20dd", "a\xb2",
    "\u2167", "\ud800", "a\udc00b", "\U00010400", "\U00010428", "a\u0378", "\U0001faf9",
    "\U0001e030", "a\ue000", "\xc5", "A\u030a", "\u212b", "\u1e9b\u0323", "\u01c8", "\u01c9",
    "\u01c7", "\u0130", "\u03d0", "\u03d1", "\u1fbe", "\u0345", "\u0390", "\ufb00", "\ufb06",
    "\u01c6", "#dev", "a b", "a/b", "a.b", "\xf8", "\xd8", "\u0587", "\uff76\uff85", "\u3000",
    "\u2126", "\u2c2f", "\ua7c0", "\U00016e40", "\U0001e900", "\u2170", "\u2160",
)


def name_corpus() -> list[dict[str, Any]]:
    mixed = st.text(st.characters(categories=("L", "M", "Nd", "No", "Nl", "Pc", "Pd", "Zs", "Cf",
                                              "Sk")), max_size=36)
    found = list(_SPECIAL_NAMES) + draw(usernames, 300) + draw(mixed, 500)
    found += draw(st.text(max_size=40), 150)
    return [{"name": name, "problem": username_problem(name), "skeleton": username_skeleton(name),
             "general": is_general(name)} for name in dict.fromkeys(found)]


def skeleton_chars() -> dict[str, Any]:
    """Every assigned character (Unicode 14.0, not private use) whose skeleton is not itself."""
    assigned = _ranges(lambda cp: _mask(cp) != 0 and not 0xD800 <= cp <= 0xDFFF)
    changed = [[cp, username_skeleton(chr(cp))] for lo, hi in assigned for cp in range(lo, hi + 1)
               if username_skeleton(chr(cp)) != chr(cp)]
    return {"ranges": assigned, "changed": changed}


# -- file names ----------------------------------------------------------------------------

_PIECES = ("..", ".", " ", "/", "\\", "C:", "c:", "con", "CON", "Con.txt", "clock$", "\u212alock$",
           "\u0130", "conin$", "COM1", "lpt\xb9", "com\xb2.x", "nul.tar.gz", "aux.", "a", "b.txt",
           "\u202e", "\u200b", "\x00", "\n", "\r\n", "\t", "\u2028", "\xa0", "\u3000", "<>", ":",
           '"|?*', "\uc0ac\uc9c4", "e\u0301", "\ud800", "\ue000", "\U000f0000", "\u0378",
           "\U0001faf9", "\U00013439", ".txt", ".verylongextension-over-sixteen", "\uac00" * 40,
           "x" * 90, "\ufeff", "\x85", "\x1c", "\u1680", "\u2000")


def filename_corpus(rng: random.Random) -> list[list[str]]:
    found = draw(st.text(max_size=300), 300) + draw(filenames, 100)
    found += ["", ".", "..", "...", " ", "CON", "con.txt", "..C:x", "C:..x", "a" * 300,
              "가" * 100 + ".txt", "가" * 100 + ".longextensionxxxxx", "x" * 250 + ".가가가가가가",
              "a" * 254 + "가", "\u212alock$", "CLOC\u212a$.txt", "con\u0130n$", "con\u0131n$.x",
              "COM\u00b9", "lpt\u00b3.txt", "\u212a", "x." + "e" * 16, "x" * 250 + ".e" + "e" * 16]
    for _ in range(600):
        found.append("".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 7))))
    return [[name, sanitize_filename(name)] for name in dict.fromkeys(found)]


def truncation_corpus(rng: random.Random) -> list[list[Any]]:
    """[text, limit, truncate_utf8(text, limit)]: lone surrogates count 3 bytes there."""
    found = [*draw(st.text(max_size=40), 150), "\uac00\ub098\ub2e4", "a\U0001f600b", "a\ud800b",
             "\udfff" * 5]
    return [[text, limit, truncate_utf8(text, limit)] for text in found
            for size in [len(text.encode("utf-8", "surrogatepass"))]
            for limit in (0, 1, rng.randint(0, 60), size, max(size - 1, 0))]


# -- SHA-256 -------------------------------------------------------------------------------


def sha256_corpus(rng: random.Random) -> list[dict[str, Any]]:
    out = []
    for size in (0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4096, 65_537,
                 200_003):
        blob = rng.randbytes(size)
        slices, left = [], size
        while left:
            take = min(left, rng.choice((0, 1, 7, 63, 64, 65, 500, 4096, 70_000)))
            slices.append(take)
            left -= take
        digest = hashlib.sha256(blob).hexdigest()
        out.append({"hex": blob.hex(), "slices": slices, "digest": digest})
    return out
