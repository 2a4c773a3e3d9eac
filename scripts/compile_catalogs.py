#!/usr/bin/env python3
"""Compile the GUI's gettext catalogs (.po) into .mo files, in pure Python.

    python scripts/compile_catalogs.py           # write every .mo next to its .po
    python scripts/compile_catalogs.py --check   # exit 1 if a .mo is missing or stale
    python scripts/compile_catalogs.py --pot     # print a template of every string

Supports what our catalogs use: msgctxt-free entries, plural forms, the
usual escapes, multi-line strings and the ``fuzzy`` flag (fuzzy entries
are left out, as msgfmt does). The output is byte-for-byte deterministic.
"""

from __future__ import annotations

import argparse
import ast
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUI = ROOT / "src" / "frontends" / "gui"
LOCALE = GUI / "locale"
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b",
            "f": "\f", "v": "\v", "0": "\0"}


class PoError(ValueError):
    pass


def _unquote(token: str, where: str) -> str:
    if len(token) < 2 or token[0] != '"' or token[-1] != '"':
        raise PoError(f"{where}: expected a quoted string, got {token!r}")
    body, out, i = token[1:-1], [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            if i + 1 >= len(body) or body[i + 1] not in _ESCAPES:
                raise PoError(f"{where}: bad escape in {token!r}")
            out.append(_ESCAPES[body[i + 1]])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def parse_po(text: str, name: str = "<po>") -> dict[str, str]:
    """msgid -> msgstr; plural entries are keyed ``singular\\0plural`` with
    their forms joined by NUL, as in a .mo file."""
    catalog: dict[str, str] = {}
    entry: dict[str, str] = {}
    fuzzy = False
    field = ""

    def flush() -> None:
        nonlocal entry, fuzzy
        if "msgid" in entry:
            msgid = entry["msgid"]
            if "msgid_plural" in entry:
                msgid += "\0" + entry["msgid_plural"]
                forms = sorted(k for k in entry if k.startswith("msgstr["))
                msgstr = "\0".join(entry[k] for k in forms)
            else:
                msgstr = entry.get("msgstr", "")
            translated = any(part for part in msgstr.split("\0"))
            if translated and (not fuzzy or msgid == ""):
                catalog[msgid] = msgstr
        entry, fuzzy = {}, False

    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        where = f"{name}:{number}"
        if not line:
            continue
        if line.startswith("#,") and "fuzzy" in line:
            flush()
            fuzzy = True
            continue
        if line.startswith("#"):
            continue
        if line.startswith('"'):
            if not field:
                raise PoError(f"{where}: a string outside any field")
            entry[field] += _unquote(line, where)
            continue
        keyword, _, rest = line.partition(" ")
        if keyword == "msgid" and ("msgid" in entry and ("msgstr" in entry or any(
                k.startswith("msgstr[") for k in entry))):
            flush()
        if keyword not in ("msgid", "msgid_plural", "msgstr") and not (
                keyword.startswith("msgstr[") and keyword.endswith("]")):
            raise PoError(f"{where}: unknown keyword {keyword!r}")
        field = keyword
        entry[field] = _unquote(rest.strip(), where)
    flush()
    return catalog


def make_mo(catalog: dict[str, str]) -> bytes:
    """The GNU .mo format: header, two tables of (length, offset), strings."""
    keys = sorted(catalog, key=lambda k: k.encode("utf-8"))
    ids = [k.encode("utf-8") for k in keys]
    strs = [catalog[k].encode("utf-8") for k in keys]
    count = len(keys)
    header_size = 7 * 4
    ids_table = header_size
    strs_table = ids_table + count * 8
    data_start = strs_table + count * 8
    offsets: list[tuple[int, int]] = []
    blob = bytearray()
    for string in (*ids, *strs):
        offsets.append((len(string), data_start + len(blob)))
        blob += string + b"\0"
    out = bytearray(struct.pack("<7I", 0x950412DE, 0, count, ids_table, strs_table, 0, 0))
    for length, offset in offsets:
        out += struct.pack("<2I", length, offset)
    return bytes(out + blob)


def catalogs() -> list[Path]:
    return sorted(LOCALE.glob("*/LC_MESSAGES/*.po"))


def extract_messages(folder: Path = GUI) -> list[str]:
    """Every string passed to ``_`` or ``ngettext`` in the GUI's source
    (plural pairs as ``singular\\0plural``), in order of first use."""
    found: dict[str, None] = {}
    for path in sorted(folder.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            args = [a.value for a in node.args if isinstance(a, ast.Constant)
                    and isinstance(a.value, str)]
            if node.func.id == "_" and len(args) == 1:
                found.setdefault(args[0], None)
            elif node.func.id == "ngettext" and len(args) == 2:
                found.setdefault(args[0] + "\0" + args[1], None)
    return list(found)


def _po_quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def template() -> str:
    lines = ['msgid ""', 'msgstr ""', '"Content-Type: text/plain; charset=UTF-8\\n"', ""]
    for message in extract_messages():
        singular, _, plural = message.partition("\0")
        lines.append(f"msgid {_po_quote(singular)}")
        if plural:
            lines += [f"msgid_plural {_po_quote(plural)}", 'msgstr[0] ""', 'msgstr[1] ""']
        else:
            lines.append('msgstr ""')
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check the .mo files")
    parser.add_argument("--pot", action="store_true", help="print a .pot template")
    args = parser.parse_args(argv)
    if args.pot:
        sys.stdout.write(template())
        return 0
    stale = 0
    for po in catalogs():
        try:
            compiled = make_mo(parse_po(po.read_text(encoding="utf-8"), str(po)))
        except PoError as exc:
            print(f"compile_catalogs: {exc}", file=sys.stderr)
            return 1
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.read_bytes() == compiled:
            continue
        if args.check:
            print(f"compile_catalogs: {mo.relative_to(ROOT)} is out of date", file=sys.stderr)
            stale += 1
        else:
            mo.write_bytes(compiled)
            print(f"wrote {mo.relative_to(ROOT)}")
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
