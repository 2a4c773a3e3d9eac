#!/usr/bin/env python3
"""Generate ``src/chatproto/_names_data.py``, the Unicode tables of the user name rule.

User names are checked on the wire by both peers, so every peer must apply the same rule
whatever its Python or its installed packages: the rule uses these tables, pinned to one
Unicode version (14.0.0, the one of Python 3.11, the oldest Python the project supports),
and nothing that moves with an installation.

Sources, all of the Unicode Character Database 14.0.0:

- General_Category: ``unicodedata`` of Python 3.11 (``unidata_version`` 14.0.0);
- Scripts-14.0.0.txt and ScriptExtensions-14.0.0.txt: the copies that fontTools 4.34.4
  ships as Python tables (``fontTools/unicodedata/Scripts.py``, ``ScriptExtensions.py``),
  read straight from its wheel, which is not installed;
- Default_Ignorable_Code_Point (DerivedCoreProperties-14.0.0.txt): the list below.

    pip download --no-deps -d /tmp/ft fonttools==4.34.4
    python scripts/gen_names_data.py /tmp/ft/fonttools-4.34.4-py3-none-any.whl          # write
    python scripts/gen_names_data.py /tmp/ft/fonttools-4.34.4-py3-none-any.whl --check  # compare

The output is deterministic: the same inputs give the same bytes.
"""

from __future__ import annotations

import argparse
import bisect
import sys
import unicodedata
import zipfile
from pathlib import Path
from typing import Any

UNICODE_VERSION = "14.0.0"
OUTPUT = Path(__file__).resolve().parent.parent / "src" / "chatproto" / "_names_data.py"

#: Default_Ignorable_Code_Point, DerivedCoreProperties-14.0.0.txt.
DEFAULT_IGNORABLE = [
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160),
    (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E),
    (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
]

# Kinds of characters (the low 3 bits of an INFO entry).
OTHER, LETTER, DIGIT, MARK, JOINER = range(5)

#: TS #39 section 5.1: the scripts a character of these scripts also counts for.
AUGMENT = {"Hani": ("Hanb", "Jpan", "Kore"), "Hira": ("Jpan",), "Kana": ("Jpan",),
           "Hang": ("Kore",), "Bopo": ("Hanb",)}


#: The scripts (and TS #39 combinations) given the lowest bits of a mask.
FIRST_SCRIPTS = ("Latn", "Hani", "Hira", "Kana", "Hang", "Bopo", "Hanb", "Jpan", "Kore", "Cyrl",
                 "Grek", "Arab", "Hebr", "Deva", "Beng", "Taml", "Telu", "Knda", "Mlym", "Gujr",
                 "Guru", "Orya", "Sinh", "Thai", "Laoo", "Khmr", "Mymr", "Tibt", "Geor", "Armn")


def load_tables(wheel: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    with zipfile.ZipFile(wheel) as archive:
        sources = {name: archive.read(f"fontTools/unicodedata/{name}.py").decode("utf-8")
                   for name in ("Scripts", "ScriptExtensions")}
    for name, text in sources.items():
        if f"# {name}-{UNICODE_VERSION}.txt" not in text:
            raise SystemExit(f"{wheel}: {name}.py is not made from {name}-{UNICODE_VERSION}.txt")
    tables = []
    for name in ("Scripts", "ScriptExtensions"):
        namespace: dict[str, Any] = {}
        exec(compile(sources[name], f"{wheel}:{name}.py", "exec"), namespace)
        tables.append(namespace)
    return tables[0], tables[1]


def kind_of(cp: int) -> int:
    if any(low <= cp <= high for low, high in DEFAULT_IGNORABLE):
        return OTHER
    if cp in (0x5F, 0x2D):
        return JOINER
    category = unicodedata.category(chr(cp))
    if category[0] == "L":
        return LETTER
    if category == "Nd":
        return DIGIT
    if category in ("Mn", "Mc"):
        return MARK
    return OTHER


def generate(wheel: Path) -> str:
    if unicodedata.unidata_version != UNICODE_VERSION:
        raise SystemExit(f"run this with a Python whose unicodedata is {UNICODE_VERSION} "
                         f"(Python 3.11), not {unicodedata.unidata_version}")
    scripts, extensions = load_tables(wheel)

    def lookup(table: dict[str, Any], cp: int) -> Any:
        return table["VALUES"][bisect.bisect_right(table["RANGES"], cp) - 1]

    def script_set(cp: int) -> frozenset[str]:
        value = lookup(extensions, cp)
        return frozenset(value) if value is not None else frozenset({lookup(scripts, cp)})

    # The scripts of most names first, so that their masks are small, fast ints.
    codes = list(FIRST_SCRIPTS)
    codes += sorted({code for code in scripts["VALUES"]} - {"Zyyy", "Zinh", "Zzzz"} - set(codes))
    bit = {code: 1 << i for i, code in enumerate(codes)}

    def mask_of(cp: int) -> int:
        found = script_set(cp)
        if found in ({"Zyyy"}, {"Zinh"}):
            return -1  # Common and Inherited fit every script
        if found == {"Zzzz"}:
            return 0
        mask = 0
        for code in found:
            mask |= bit[code]
            for extra in AUGMENT.get(code, ()):
                mask |= bit[extra]
        return mask

    masks: list[int] = []
    mask_index: dict[int, int] = {}
    starts: list[int] = []
    info: list[int] = []
    previous = None
    for cp in range(0x110000):
        mask = mask_of(cp)
        if mask not in mask_index:
            mask_index[mask] = len(masks)
            masks.append(mask)
        entry = kind_of(cp) | mask_index[mask] << 3
        if entry != previous:
            starts.append(cp)
            info.append(entry)
            previous = entry

    lines = [
        f'"""Unicode {UNICODE_VERSION} tables of the user name rule (``chatproto.names``).',
        "",
        "Generated by scripts/gen_names_data.py; do not edit. Sources, all of the Unicode",
        f"Character Database {UNICODE_VERSION}: General_Category (Python 3.11 ``unicodedata``),",
        f"Scripts-{UNICODE_VERSION}.txt and ScriptExtensions-{UNICODE_VERSION}.txt (as shipped by",
        "fontTools 4.34.4), Default_Ignorable_Code_Point (DerivedCoreProperties).",
        "",
        "``STARTS[i]`` is the first code point of range ``i`` (up to ``STARTS[i + 1] - 1``).",
        "``INFO[i] & 7`` is the kind of its characters (0 other, 1 letter, 2 decimal digit,",
        "3 combining mark Mn or Mc, 4 ``_`` or ``-``; default-ignorable characters are 0) and",
        "``MASKS[INFO[i] >> 3]`` their TS #39 augmented script set: bit ``j`` is ``SCRIPTS[j]``,",
        "-1 is every script (Common and Inherited characters), 0 none (unassigned).",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        f'UNICODE_VERSION = "{UNICODE_VERSION}"',
        "",
        "SCRIPTS: tuple[str, ...] = (",
        *_wrap([f'"{code}"' for code in codes]),
        ")",
        "",
        "MASKS: tuple[int, ...] = (",
        *_wrap([str(mask) if mask < 0 else hex(mask) for mask in masks]),
        ")",
        "",
        "STARTS: tuple[int, ...] = (",
        *_wrap([hex(cp) for cp in starts]),
        ")",
        "",
        "INFO: tuple[int, ...] = (",
        *_wrap([str(entry) for entry in info]),
        ")",
        "",
    ]
    return "\n".join(lines)


def _wrap(items: list[str], width: int = 99) -> list[str]:
    lines: list[str] = []
    line = "   "
    for item in items:
        piece = f" {item},"
        if len(line) + len(piece) > width:
            lines.append(line)
            line = "   "
        line += piece
    if line.strip():
        lines.append(line)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("wheel", type=Path, help="fonttools-4.34.4-py3-none-any.whl")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if the checked-in tables differ from a fresh generation")
    args = parser.parse_args(argv)
    text = generate(args.wheel)
    if args.check:
        if OUTPUT.read_text(encoding="utf-8") != text:
            print(f"{OUTPUT} is stale", file=sys.stderr)
            return 1
        print(f"{OUTPUT} is current")
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
