"""Generate the message tables and test vectors of docs/protocol.md from chatproto.wire.

``wire.LAYOUTS`` is the single source of truth of the byte layout; this script
writes it out between the ``<!-- BEGIN GENERATED: ... -->`` / ``<!-- END GENERATED: ... -->``
markers of the document, so the spec cannot drift from the code.

    python scripts/gen_protocol_tables.py          # rewrite docs/protocol.md in place
    python scripts/gen_protocol_tables.py --check  # exit 1 if the document is stale
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import struct
import sys
from pathlib import Path
from typing import Any

from chatproto import events as ev
from chatproto import limits, state, wire
from chatproto.errors import ErrorCode
from chatproto.limits import HEADER_SIZE

DOC = Path(__file__).resolve().parent.parent / "docs" / "protocol.md"

# -- message tables -------------------------------------------------------------

_FIXED_TEXT = {
    "u8": "unsigned 8-bit integer",
    "u16": "unsigned 16-bit integer, big-endian",
    "u32": "unsigned 32-bit integer, big-endian",
    "u64": "unsigned 64-bit integer, big-endian",
    "bool": "one byte: 0 = false, 1 = true (anything else is invalid)",
    "sha256": "32 raw bytes (the SHA-256 digest, not hex)",
    "presence": "one byte: presence code (see *Presence codes*)",
}
_VARIABLE_TEXT = {
    "name": "UTF-8 user name (see *User names*), 1..{max} bytes",
    "optional-name": "UTF-8 user name, 0..{max} bytes; length 0 means none (everyone)",
    "login-name": "UTF-8 text, 0..{max} bytes, judged by the server (see *User names*)",
    "token": "ASCII code `[a-z0-9]+(-[a-z0-9]+)*`, 1..{max} bytes",
    "software": "UTF-8 text, 0..{max} bytes",
    "message": "UTF-8 text for humans, 0..{max} bytes",
    "password": "UTF-8 text, 1..{max} bytes",
    "filename": "UTF-8 text without NUL, 1..{max} bytes",
    "text": "UTF-8 text, 0..{max} bytes",
    "participants": "participant entries (see *Participant list*), 0..{max} bytes",
}
_PREFIX_NAME = {"B": "u8", "H": "u16", "I": "u32"}


def _summary(cls: type[Any]) -> str:
    doc = (cls.__doc__ or "").strip()
    return " ".join(doc.split("\n\n")[0].split()) if doc else ""


def render_tables() -> str:
    """One table per message type, in type-code order, straight from ``wire.LAYOUTS``."""
    out = ["| code | message | fixed part | max payload |", "| --- | --- | --- | --- |"]
    for layout in sorted(wire.LAYOUTS, key=lambda lay: lay.type_code):
        name = layout.event_class.__name__
        limit = "frame limit" if layout.trailing_data else f"{layout.max_payload}"
        out.append(
            f"| `0x{layout.type_code:02x}` | [{name}](#0x{layout.type_code:02x}-{name.lower()}) "
            f"| {layout.fixed_size} bytes | {limit} |"
        )
    for layout in sorted(wire.LAYOUTS, key=lambda lay: lay.type_code):
        out += ["", *_render_layout(layout)]
    return "\n".join(out) + "\n"


def _render_layout(layout: wire.Layout) -> list[str]:
    name = layout.event_class.__name__
    lines = [f"### 0x{layout.type_code:02x} {name}", ""]
    summary = _summary(layout.event_class)
    if summary:
        lines += [summary, ""]
    lines += ["| offset | field | wire type | encoding |", "| --- | --- | --- | --- |"]
    offset = 0
    for field, kind in layout.fixed:
        size = struct.calcsize("!" + kind.struct_code)
        lines.append(f"| {offset} | `{field}` | {kind.name} | {_FIXED_TEXT[kind.name]} |")
        offset += size
    for field, kind in layout.variable:
        size = struct.calcsize("!" + kind.struct_code)
        prefix = _PREFIX_NAME[kind.struct_code]
        lines.append(
            f"| {offset} | length of `{field}` | {prefix} | byte length of `{field}` |"
        )
        offset += size
    # Only the first variable field has a fixed offset; the rest follow it.
    where = str(offset)
    for field, kind in layout.variable:
        text = _VARIABLE_TEXT[kind.name].format(max=kind.max_bytes)
        lines.append(f"| {where} | `{field}` | {kind.name} | {text} |")
        where = "…"
    if layout.trailing_data:
        field = layout.fields[-1][0]
        lines.append(
            f"| {where} | `{field}` | data | raw bytes: the rest of the payload "
            "(no length prefix) |"
        )
    return lines


# -- states and limits ---------------------------------------------------------------


def render_states() -> str:
    """``state.TRANSITIONS`` as a table: what each role may send in each state."""
    out = ["| role | state | may send (→ next state) |", "| --- | --- | --- |"]
    for (role, state_), moves in state.TRANSITIONS.items():
        cells = ", ".join(
            f"{cls.__name__}" + ("" if nxt is state_ else f" → {nxt.name}")
            for cls, nxt in moves.items()
        )
        out.append(f"| {role.value} | {state_.name} | {cells} |")
    return "\n".join(out) + "\n"


_LIMIT_TEXT = {
    "PROTOCOL_VERSION": "the protocol version this document describes",
    "HEADER_SIZE": "bytes in a frame header",
    "MIN_FRAME_SIZE": "lowest `max_frame_size` a Hello may announce",
    "DEFAULT_MAX_FRAME_SIZE": "default `max_frame_size` of this implementation",
    "ABSOLUTE_MAX_FRAME_SIZE": "highest `max_frame_size` this implementation can be configured "
    "to accept",
    "DEFAULT_CHUNK_SIZE": "largest file chunk data this implementation sends",
    "MAX_USERNAME_CHARS": "user name, in characters (code points)",
    "MAX_USERNAME_BYTES": "user name, in UTF-8 bytes",
    "MAX_PASSWORD_BYTES": "password, in UTF-8 bytes",
    "MAX_TEXT_BYTES": "chat text, in UTF-8 bytes (the same for every peer)",
    "MAX_MESSAGE_BYTES": "human message in Goodbye, Error and rejections, in UTF-8 bytes",
    "MAX_FILENAME_BYTES": "file name, in UTF-8 bytes",
    "MAX_SOFTWARE_BYTES": "software name in Hello, in UTF-8 bytes",
    "MAX_TOKEN_BYTES": "machine-readable code (reason, error code), in bytes",
    "MAX_PARTICIPANTS": "entries in a participant list",
    "MAX_FILE_SIZE": "size of a file offered for upload, in bytes",
    "MAX_OPEN_UPLOADS": "uploads open at once on one connection",
    "MAX_OPEN_FETCHES": "downloads (fetches) open at once on one connection",
}


def render_limits() -> str:
    out = ["| constant | value | limit on |", "| --- | --- | --- |"]
    for name, value in vars(limits).items():
        if name.isupper() and isinstance(value, int):
            out.append(f"| `{name}` | {value:,} | {_LIMIT_TEXT.get(name, '')} |")
    return "\n".join(out) + "\n"


def render_codes() -> str:
    """The error codes and every reason code, from the enums."""
    out = ["| enum | codes |", "| --- | --- |"]
    for enum in (ErrorCode, ev.LoginRejectReason, ev.RejectReason, ev.PresenceState,
                 ev.ParticipantState):
        out.append(f"| `{enum.__name__}` | " + ", ".join(f"`{m.value}`" for m in enum) + " |")
    return "\n".join(out) + "\n"


# -- test vectors ------------------------------------------------------------------

_SHA = hashlib.sha256(b"hello world").digest()
_NAME = "report, final.txt"
_TS = 1_764_000_000_000  # 2025-11-24T16:00:00Z in milliseconds

VECTORS: tuple[tuple[str, ev.Event], ...] = (
    ("client hello", ev.Hello(1, 1_048_576, "chatproto")),
    ("login with a Korean name and password", ev.Login("개구리", "비밀번호", 0)),
    ("login resuming after sequence 42", ev.Login("alice", "pw", 42)),
    (
        "login accepted with a participants list",
        ev.LoginAccepted(
            "개구리", False, True, 42,
            (ev.Participant("개구리"), ev.Participant("bob", ev.ParticipantState.DEACTIVATED)),
        ),
    ),
    ("login rejected", ev.LoginRejected("already-active", "이미 존재하는 아이디입니다")),
    ("ping", ev.Ping(7)),
    ("pong", ev.Pong(7)),
    ("goodbye", ev.Goodbye("bye")),
    ("error", ev.Error("frame-too-large", "frame of 2000000 bytes")),
    ("chat to everyone", ev.SendChat("안녕하세요", None, 1)),
    ("chat to one recipient", ev.SendChat("hi bob", "bob", 2)),
    (
        "chat delivered, with a newline kept as data",
        ev.ChatMessage(42, _TS, 1, "개구리", None, "안녕\n[bob] 하세요"),
    ),
    ("private chat delivered", ev.ChatMessage(43, _TS + 1, 0, "alice", "bob", "psst")),
    ("chat rejected", ev.ChatRejected(2, "unknown-user", "no user bob")),
    ("presence: deactivated", ev.Presence("bob", ev.PresenceState.DEACTIVATED, 3)),
    ("file offer, a comma in the name", ev.FileOffer(1, _NAME, 11, _SHA)),
    ("file offer to one recipient", ev.FileOffer(2, "사진.png", 0, hashlib.sha256().digest(),
                                                 "bob")),
    ("file accepted", ev.FileAccepted(1)),
    ("file rejected", ev.FileRejected(1, "checksum-mismatch", "")),
    ("file chunk", ev.FileChunk(1, 0, b"hello world")),
    ("file end", ev.FileEnd(1)),
    ("file available", ev.FileAvailable(44, _TS + 2, 5, "개구리", None, _NAME, 11, _SHA, 1)),
    ("fetch from offset 6 (resume)", ev.FetchFile(5, 6)),
    ("fetch rejected", ev.FetchRejected(5, "not-found", "")),
)


def to_json_value(value: Any) -> Any:
    """How a field value is written in a vector (language-neutral JSON)."""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, tuple):
        return [[p.name, p.state.value] for p in value]
    if isinstance(value, ev.PresenceState | ev.ParticipantState):
        return value.value
    return value


def vector_fields(event: ev.Event) -> dict[str, Any]:
    layout = wire.LAYOUT_BY_CLASS[type(event)]
    return {field: to_json_value(getattr(event, field)) for field, _ in layout.fields}


def spaced_hex(frame: bytes) -> str:
    """The frame's hex with a space between header and fields, to help a reader."""
    layout = wire.LAYOUT_BY_CODE[frame[0]]
    sizes = [1, 4] + [struct.calcsize("!" + k.struct_code) for _, k in layout.fixed]
    sizes += [struct.calcsize("!" + k.struct_code) for _, k in layout.variable]
    values = layout.struct.unpack_from(frame, HEADER_SIZE)
    sizes += list(values[layout.n_fixed :])
    parts, pos = [], 0
    for size in sizes:
        if size:
            parts.append(frame[pos : pos + size].hex())
        pos += size
    if pos < len(frame):
        parts.append(frame[pos:].hex())
    return " ".join(parts)


def render_vectors() -> str:
    out = []
    for number, (title, event) in enumerate(VECTORS, start=1):
        fields = [
            f"    {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}"
            for k, v in vector_fields(event).items()
        ]
        out += [
            f"#### Vector {number}: {title}",
            "",
            "```json",
            "{",
            f'  "type": "{type(event).__name__}",',
            '  "fields": {',
            ",\n".join(fields),
            "  },",
            f'  "hex": "{spaced_hex(wire.encode_event(event))}"',
            "}",
            "```",
            "",
        ]
    return "\n".join(out)


# -- the document ------------------------------------------------------------------

SECTIONS = {
    "limits": render_limits,
    "codes": render_codes,
    "states": render_states,
    "message-tables": render_tables,
    "test-vectors": render_vectors,
}


def update(text: str) -> str:
    """``text`` with every generated section replaced by a fresh rendering."""
    for section, render in SECTIONS.items():
        pattern = re.compile(
            rf"(<!-- BEGIN GENERATED: {section} -->\n).*?(<!-- END GENERATED: {section} -->)",
            re.S,
        )
        if not pattern.search(text):
            raise SystemExit(f"{DOC.name}: markers for {section!r} are missing")
        body = render()
        text = pattern.sub(lambda m, body=body: m.group(1) + body + m.group(2), text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check, exit 1 if stale")
    args = parser.parse_args(argv)
    current = DOC.read_text(encoding="utf-8")
    fresh = update(current)
    if args.check:
        if fresh != current:
            print(f"{DOC} is stale: run python scripts/gen_protocol_tables.py", file=sys.stderr)
            return 1
        return 0
    if fresh != current:
        DOC.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
