"""Generate the tables and test vectors of docs/protocol.md from chatproto.

``wire.LAYOUTS`` is the single source of truth of the byte layout, ``state.TRANSITIONS`` of the
state machines, ``limits`` and the enums of the numbers and codes; this script writes them out
between the ``<!-- BEGIN GENERATED: ... -->`` / ``<!-- END GENERATED: ... -->`` markers of the
document, so the spec cannot drift from the code. It also builds the test vectors: valid
frames (checked both ways by ``tests/proto/test_vectors.py``) and invalid input with the error
a receiver must report (fed to real connections by ``tests/proto/test_invalid_vectors.py``).

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
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import attrs

from chatproto import (
    ClientConnection,
    Connection,
    ServerConnection,
    encode_event,
    limits,
    names,
    state,
    wire,
)
from chatproto import events as ev
from chatproto.errors import ErrorCode
from chatproto.limits import (
    DEFAULT_MAX_FRAME_SIZE,
    HEADER_SIZE,
    MAX_FILE_SIZE,
    MAX_OPEN_FETCHES,
    MAX_OPEN_REQUESTS,
    MAX_OPEN_UPLOADS,
    MAX_PARTICIPANTS,
    MAX_SEARCH_LIMIT,
    MAX_TOKEN_BYTES,
    MAX_USERNAME_BYTES,
    MAX_USERNAME_CHARS,
    MIN_FRAME_SIZE,
    OLDEST_PROTOCOL_VERSION,
    PROTOCOL_VERSION,
    RESUME_TOKEN_BYTES,
    SKIP_REPLAY,
)
from chatproto.state import Role, State

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
    "membership": "one byte: membership code (see *Membership codes*)",
}
_VARIABLE_TEXT = {
    "name": "UTF-8 user name (see *User names*), 1..{max} bytes",
    "optional-name": "UTF-8 user name, 0..{max} bytes; length 0 means none (everyone)",
    "login-name": "UTF-8 text, 0..{max} bytes, judged by the server (see *User names*)",
    "token": "ASCII code `[a-z0-9]+(-[a-z0-9]+)*`, 1..{max} bytes",
    "software": "UTF-8 text, 0..{max} bytes",
    "message": "UTF-8 text for humans, 0..{max} bytes",
    "password": "UTF-8 text, 0..{max} bytes (empty only in a Login by resume token)",
    "resume-token": "raw bytes: empty (none) or exactly {max} (a resume token)",
    "filename": "UTF-8 text without NUL, 1..{max} bytes",
    "text": "UTF-8 text, 0..{max} bytes",
    "participants": "participant entries (see *Participant list*), 0..{max} bytes",
    "recipient": "empty (the room `general`), a user name, or `#` and a room name "
    "(see *Recipients*), 0..{max} bytes",
    "room": "UTF-8 room name (a user name by every rule, not `general`), 1..{max} bytes",
    "optional-room": "UTF-8 room name (`general` allowed), 0..{max} bytes; length 0 "
    "means none (every room)",
    "query": "UTF-8 text, 1..{max} bytes",
    "rooms": "room entries (see *Room list*), 0..{max} bytes",
}
_PREFIX_NAME = {"B": "u8", "H": "u16", "I": "u32"}
#: Fields carried by a kind whose own words would mislead: (message, field) -> (wire type,
#: encoding). The upload token is 32 raw bytes, carried as a ``sha256`` is.
_FIELD_TEXT = {
    ("UploadTicket", "token"): (
        "32 bytes", "32 random bytes, raw (the `Upload-Token` header carries them as 64 "
        "lowercase hex digits, 1.1)"),
}


def _summary(cls: type[Any]) -> str:
    doc = (cls.__doc__ or "").strip()
    return " ".join(doc.split("\n\n")[0].split()) if doc else ""


def render_tables() -> str:
    """One table per message type, in type-code order, straight from ``wire.LAYOUTS``."""
    out = ["| code | message | fixed part | max payload |", "| --- | --- | --- | --- |"]
    for layout in sorted(wire.LAYOUTS, key=lambda lay: lay.type_code):
        name = layout.event_class.__name__
        limit = "frame limit" if layout.ends_with_data else f"{layout.max_payload}"
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
        wire_type, text = _FIELD_TEXT.get((name, field), (kind.name, _FIXED_TEXT[kind.name]))
        lines.append(f"| {offset} | `{field}` | {wire_type} | {text} |")
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
    if layout.ends_with_data:
        field = layout.fields[-1][0]
        lines.append(
            f"| {where} | `{field}` | data | raw bytes: the rest of the payload "
            "(no length prefix) |"
        )
    return lines


# -- states and limits ---------------------------------------------------------------


#: Moves the table cannot say alone: a check beside it (``state._CHECKS``) picks the next
#: state. Keyed by the table's own entry, which must still be there (so a note cannot
#: outlive the move it explains).
_STATE_NOTES: dict[tuple[Role, State, type[ev.Event], State], str] = {
    (Role.SERVER, State.READY, ev.LoginAccepted, State.ACTIVE):
        "LoginAccepted → ACTIVE (→ LISTING if its list is incomplete; → TRANSIENT after a "
        "TransientLogin)",
    (Role.SERVER, State.LISTING, ev.ParticipantList, State.ACTIVE):
        "ParticipantList → ACTIVE with the last page (→ LISTING before it; → TRANSIENT after "
        "a TransientLogin)",
}


def render_states() -> str:
    """``state.TRANSITIONS`` as a table: what each role may send in each state."""
    for role, state_, cls, nxt in _STATE_NOTES:
        if state.TRANSITIONS.get((role, state_), {}).get(cls) is not nxt:
            raise SystemExit(f"stale state note for {role.value} {state_.name} {cls.__name__}")
    out = ["| role | state | may send (→ next state) |", "| --- | --- | --- |"]
    for (role, state_), moves in state.TRANSITIONS.items():
        cells = ", ".join(
            _STATE_NOTES.get(
                (role, state_, cls, nxt),
                f"{cls.__name__}" + ("" if nxt is state_ else f" → {nxt.name}"),
            )
            for cls, nxt in moves.items()
        )
        out.append(f"| {role.value} | {state_.name} | {cells} |")
    return "\n".join(out) + "\n"


_LIMIT_TEXT = {
    "PROTOCOL_VERSION": "the protocol version this document describes",
    "OLDEST_PROTOCOL_VERSION": "the oldest version a peer may offer or answer (version 1, "
    "before resume tokens, is not spoken; version 2, before transient logins, is)",
    "TRANSIENT_LOGIN_VERSION": "the first version with `TransientLogin` (7.9): the server's "
    "Hello must say at least this before a client sends one",
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
    "RESUME_TOKEN_BYTES": "a resume token (Login, LoginAccepted), in bytes: 256 random bits",
    "MAX_PARTICIPANTS": "entries in a participant list",
    "MAX_FILE_SIZE": "size of a file (FileOffer, FileAvailable), in bytes (2^62)",
    "MAX_OPEN_UPLOADS": "uploads open at once on one connection",
    "MAX_OPEN_FETCHES": "downloads (fetches) open at once on one connection",
    "SKIP_REPLAY": "`Login.last_seen_seq` that asks for no replay at all (2^64 - 1)",
    "ROOMS_VERSION": "the first version with rooms, room requests and search (7.10, 7.11): "
    "a `#room` recipient and the messages `0x30`-`0x3d` need an agreed version of at least this",
    "UPLOAD_TICKET_VERSION": "the first version with `UploadTicket` (1.1, 7.6): a server "
    "sends one after `FileAccepted` on a WebSocket connection of at least this version, and "
    "the HTTP upload of its bytes must carry its token",
    "UPLOAD_TOKEN_BYTES": "an upload token (`UploadTicket.token`), in bytes: 256 random bits",
    "MAX_RECIPIENT_BYTES": "a `recipient` field (3.5): `#` and a room name, in UTF-8 bytes",
    "MAX_OPEN_REQUESTS": "room requests and searches awaiting their answer on one connection",
    "MAX_SEARCH_LIMIT": "results one `SearchHistory` may ask for (`limit`, at least 1)",
    "MAX_QUERY_BYTES": "a search query, in UTF-8 bytes",
    "MAX_ROOMS_PER_PAGE": "entries in one `RoomList` page",
}


def render_limits() -> str:
    out = ["| constant | value | limit on |", "| --- | --- | --- |"]
    for name, value in vars(limits).items():
        if name.isupper() and isinstance(value, int):
            if name not in _LIMIT_TEXT:
                raise SystemExit(f"limits.{name} has no description in _LIMIT_TEXT")
            out.append(f"| `{name}` | {value:,} | {_LIMIT_TEXT[name]} |")
    return "\n".join(out) + "\n"


def render_names() -> str:
    """The constants of the user name rule (``chatproto.names``)."""
    return "\n".join([
        "| constant | value |",
        "| --- | --- |",
        f"| `UNICODE_VERSION` | {names.UNICODE_VERSION} |",
        f"| `MAX_USERNAME_CHARS` | {names.MAX_USERNAME_CHARS} |",
        f"| `MAX_USERNAME_BYTES` | {names.MAX_USERNAME_BYTES} |",
        f"| `MAX_MARKS_IN_A_ROW` | {names.MAX_MARKS_IN_A_ROW} |",
    ]) + "\n"


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
#: A server's history epoch: random, non-zero, below 2^63.
_EPOCH = 0x2F6B_1C8E_9A3D_4075
_BOB_AWAY = ev.Participant("bob", ev.ParticipantState.DEACTIVATED)
#: A resume token as a server makes them: 32 random bytes (here fixed, for the vectors).
_RESUME_TOKEN = hashlib.sha256(b"an example resume token").digest()
#: An upload token as a server makes them: 32 random bytes (here fixed, for the vectors).
_UPLOAD_TOKEN = hashlib.sha256(b"an example upload token").digest()
#: The verdict of ``TransientLogin("bot", "pw")``: the participants are the others.
_TRANSIENT_WELCOME = ev.LoginAccepted(
    "bot", False, False, 42, (ev.Participant("alice"), _BOB_AWAY), _EPOCH, False, 2
)

VECTORS: tuple[tuple[str, ev.Event], ...] = (
    ("client hello", ev.Hello(PROTOCOL_VERSION, 1_048_576, "chatproto")),
    ("login with a Korean name and password, nothing seen yet",
     ev.Login("개구리", "비밀번호", 0, 0)),
    ("login resuming after sequence 42 of a known epoch",
     ev.Login("alice", "pw", 42, _EPOCH)),
    ("login of a script that wants no replay (SKIP_REPLAY)",
     ev.Login("bot", "pw", SKIP_REPLAY, 0)),
    ("login by resume token (empty password) after sequence 42 of a known epoch",
     ev.Login("alice", "", 42, _EPOCH, _RESUME_TOKEN)),
    ("transient login of a script (version 3)", ev.TransientLogin("bot", "pw")),
    (
        "login accepted with the whole participant list and a resume token",
        ev.LoginAccepted(
            "개구리", False, True, 42, (ev.Participant("개구리"), _BOB_AWAY), _EPOCH, False, 2,
            _RESUME_TOKEN,
        ),
    ),
    (
        "login accepted after a history reset, with the first page of three participants "
        "and no resume token",
        ev.LoginAccepted("alice", False, False, 42, (ev.Participant("alice"),), _EPOCH, True, 3),
    ),
    ("the rest of that participant list",
     ev.ParticipantList((_BOB_AWAY, ev.Participant("개구리")))),
    ("login accepted after a transient login: no resume token, and the caller is not a "
     "participant", _TRANSIENT_WELCOME),
    ("login rejected", ev.LoginRejected("already-active", "이미 존재하는 아이디입니다")),
    ("transient login rejected: that user has as many open as the server allows",
     ev.LoginRejected("too-many-logins", "bot has 4 transient logins open already")),
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
    ("chat delivered, a byte order mark at the start kept as data",
     ev.ChatMessage(43, _TS, 0, "bob", None, "\ufeffhi")),
    ("private chat delivered", ev.ChatMessage(44, _TS + 1, 0, "alice", "bob", "psst")),
    ("chat rejected", ev.ChatRejected(2, "unknown-user", "no user bob")),
    ("presence: joined", ev.Presence("carol", ev.PresenceState.JOINED, 3)),
    ("presence: left", ev.Presence("carol", ev.PresenceState.LEFT, 2)),
    ("presence: deactivated", ev.Presence("bob", ev.PresenceState.DEACTIVATED, 2)),
    ("presence: rejoined", ev.Presence("bob", ev.PresenceState.REJOINED, 2)),
    ("file offer, a comma in the name", ev.FileOffer(1, _NAME, 11, _SHA)),
    ("file offer to one recipient", ev.FileOffer(2, "사진.png", 0, hashlib.sha256().digest(),
                                                 "bob")),
    ("file accepted", ev.FileAccepted(1)),
    ("file rejected", ev.FileRejected(1, "checksum-mismatch", "")),
    ("file chunk", ev.FileChunk(1, 0, b"hello world")),
    ("file end", ev.FileEnd(1)),
    ("file available, on the uploader's own connection (its upload id echoed)",
     ev.FileAvailable(45, _TS + 2, 5, "개구리", None, _NAME, 11, _SHA, 1)),
    ("file available, on every other connection and in replays (upload id 0)",
     ev.FileAvailable(45, _TS + 2, 5, "개구리", None, _NAME, 11, _SHA, 0)),
    ("fetch from offset 6 (resume)", ev.FetchFile(5, 6)),
    ("fetch rejected", ev.FetchRejected(5, "not-found", "")),
    ("chat to a room (version 4)", ev.SendChat("standup in 5", "#dev", 3)),
    ("chat delivered in a room with a Korean name",
     ev.ChatMessage(46, _TS + 3, 3, "개구리", "#개발", "회의 시작")),
    ("file shared in a room", ev.FileAvailable(47, _TS + 4, 6, "bob", "#dev", "plan.txt",
                                                11, _SHA, 0)),
    ("create a private room", ev.CreateRoom(1, "개발", True)),
    ("join a public room", ev.JoinRoom(2, "dev")),
    ("leave a room", ev.LeaveRoom(3, "dev")),
    ("invite a user into a room", ev.InviteToRoom(4, "개발", "bob")),
    ("list the rooms", ev.ListRooms(5)),
    ("search the rooms and direct messages for a Korean word, newest 20",
     ev.SearchHistory(6, "안녕", 20)),
    ("search one room for what one user said, before seq 1000",
     ev.SearchHistory(7, "deploy", 50, 1000, "dev", "bob")),
    ("request done", ev.RequestDone(2)),
    ("request rejected", ev.RequestRejected(3, "cannot-leave-general",
                                            "every account stays in general")),
    ("a room list page, more to come",
     ev.RoomList(5, (ev.RoomInfo("general", 3, False, True), ev.RoomInfo("dev", 2, False,
                                                                          False)), True)),
    ("the last room list page", ev.RoomList(5, (ev.RoomInfo("개발", 2, True, True),), False)),
    ("an empty last room list page", ev.RoomList(5, (), False)),
    ("a search hit in a room", ev.SearchHit(6, 46, _TS + 3, "개구리", "#개발", "안녕하세요")),
    ("a search hit in general", ev.SearchHit(6, 42, _TS, "개구리", None, "안녕\n[bob] 하세요")),
    ("a search hit in a direct message", ev.SearchHit(6, 44, _TS + 1, "alice", "bob", "psst")),
    ("search done, older results exist", ev.SearchDone(6, True)),
    ("membership: joined a room", ev.Membership("dev", "carol", ev.MembershipState.JOINED, 3)),
    ("membership: left a room", ev.Membership("dev", "carol", ev.MembershipState.LEFT, 2)),
    ("the ticket of accepted upload 1: its token, good for 60 s without a byte (version 5, "
     "WebSocket)", ev.UploadTicket(1, _UPLOAD_TOKEN, 60_000)),
)


def to_json_value(value: Any) -> Any:
    """How a field value is written in a vector (language-neutral JSON)."""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, tuple) and value and isinstance(value[0], ev.RoomInfo):
        return [[r.name, r.member_count, r.private, r.member] for r in value]
    if isinstance(value, tuple):
        return [[p.name, p.state.value] for p in value]
    if isinstance(value, ev.PresenceState | ev.ParticipantState | ev.MembershipState):
        return value.value
    return value


def vector_fields(event: ev.Event) -> dict[str, Any]:
    layout = wire.LAYOUT_BY_CLASS[type(event)]
    return {field: to_json_value(getattr(event, field)) for field, _ in layout.fields}


def spaced_hex(data: bytes) -> str:
    """The hex of one or more frames, with a space between header and fields (and between
    frames), to help a reader. Bytes that do not parse as fields (a truncated or broken
    frame) are shown as far as they go."""
    parts, pos = [], 0
    while pos < len(data):
        layout = wire.LAYOUT_BY_CODE.get(data[pos])
        if len(data) - pos < HEADER_SIZE or layout is None:
            parts.append(data[pos : pos + 1].hex())
            if len(data) - pos > 1:
                parts.append(data[pos + 1 : pos + HEADER_SIZE].hex())
            pos += HEADER_SIZE
            if pos < len(data):
                parts.append(data[pos:].hex())
            break
        length = int.from_bytes(data[pos + 1 : pos + HEADER_SIZE], "big")
        end = min(len(data), pos + HEADER_SIZE + length)
        parts += [data[pos : pos + 1].hex(), data[pos + 1 : pos + HEADER_SIZE].hex()]
        parts += _spaced_payload(layout, data[pos + HEADER_SIZE : end])
        pos = end
    return " ".join(part for part in parts if part)


def _spaced_payload(layout: wire.Layout, payload: bytes) -> list[str]:
    if len(payload) < layout.fixed_size:
        return [payload.hex()]
    sizes = [struct.calcsize("!" + k.struct_code) for _, k in layout.fixed]
    sizes += [struct.calcsize("!" + k.struct_code) for _, k in layout.variable]
    sizes += list(layout.struct.unpack_from(payload)[layout.n_fixed :])
    parts, pos = [], 0
    for size in sizes:
        if size and pos < len(payload):
            parts.append(payload[pos : pos + size].hex())
        pos += size
    if pos < len(payload):
        parts.append(payload[pos:].hex())
    return parts


def _json(value: Any) -> str:
    """JSON with non-ASCII text as is, but invisible characters (controls, format
    characters such as U+FEFF) escaped, so that a reader sees them."""
    text = json.dumps(value, ensure_ascii=False)
    return "".join(
        f"\\u{ord(ch):04x}" if unicodedata.category(ch) in ("Cc", "Cf") else ch for ch in text
    )


def render_vectors() -> str:
    out = []
    for number, (title, event) in enumerate(VECTORS, start=1):
        fields = [f"    {json.dumps(k)}: {_json(v)}" for k, v in vector_fields(event).items()]
        out += [
            f"#### Vector {number}: {title}",
            "",
            "```json",
            "{",
            f'  "type": "{type(event).__name__}",',
            '  "fields": {',
            ",\n".join(fields),
            "  },",
            f'  "hex": "{spaced_hex(encode_event(event))}"',
            "}",
            "```",
            "",
        ]
    return "\n".join(out)


# -- invalid input -------------------------------------------------------------------
#
# Each vector is bytes that a receiver in a given state must refuse with a given error
# code. A vector has exactly one fault, so the order in which a receiver runs its checks
# does not change the code. The states are built by real connections (``build``), and
# ``tests/proto/test_invalid_vectors.py`` feeds every vector to one.


@dataclass(frozen=True)
class Setup:
    """A receiver's state: what it has sent and received since the connection opened,
    after the steps of ``base``."""

    role: Role
    base: str | None
    steps: tuple[tuple[str, ev.Event], ...]


_CLIENT_HELLO = ev.Hello(PROTOCOL_VERSION, DEFAULT_MAX_FRAME_SIZE, "")
_SERVER_HELLO = ev.Hello(PROTOCOL_VERSION, DEFAULT_MAX_FRAME_SIZE, "")
#: A peer of version 2, the oldest spoken: the one before transient logins.
_HELLO_V2 = ev.Hello(OLDEST_PROTOCOL_VERSION, DEFAULT_MAX_FRAME_SIZE, "")
_TRANSIENT = ev.TransientLogin("alice", "pw")
_TRANSIENT_ACCEPTED = ev.LoginAccepted("alice", False, False, 0, (), _EPOCH, False, 0)
_ALICE = ev.Participant("alice")
_WELCOME = ev.LoginAccepted("alice", True, False, 0, (_ALICE,), _EPOCH, False, 1)
_FIRST_PAGE = ev.LoginAccepted("alice", True, False, 0, (_ALICE,), _EPOCH, False, 3)
_OFFER = ev.FileOffer(1, "a.txt", 11, _SHA)

#: A peer of version 3, the one before rooms.
_HELLO_V3 = ev.Hello(3, DEFAULT_MAX_FRAME_SIZE, "")
#: A peer of version 4, the one before upload tickets.
_HELLO_V4 = ev.Hello(4, DEFAULT_MAX_FRAME_SIZE, "")
_TICKET = ev.UploadTicket(1, _UPLOAD_TOKEN, 60_000)
_LOGIN = ev.Login("alice", "pw", 0, 0)

SETUPS: dict[str, Setup] = {
    "server-fresh": Setup(Role.SERVER, None, ()),
    "server-hello-received": Setup(Role.SERVER, "server-fresh", (("received", _CLIENT_HELLO),)),
    "server-greeted": Setup(Role.SERVER, "server-hello-received", (("sent", _SERVER_HELLO),)),
    "server-greeted-v2": Setup(
        Role.SERVER, "server-fresh", (("received", _HELLO_V2), ("sent", _HELLO_V2))
    ),
    "server-active": Setup(
        Role.SERVER,
        "server-greeted",
        (("received", ev.Login("alice", "pw", 0, 0)), ("sent", _WELCOME)),
    ),
    "server-uploading": Setup(
        Role.SERVER, "server-active", (("received", _OFFER), ("sent", ev.FileAccepted(1)))
    ),
    "server-transient": Setup(
        Role.SERVER, "server-greeted",
        (("received", _TRANSIENT), ("sent", _TRANSIENT_ACCEPTED)),
    ),
    "server-active-v3": Setup(
        Role.SERVER, "server-fresh",
        (("received", _HELLO_V3), ("sent", _HELLO_V3), ("received", _LOGIN), ("sent", _WELCOME)),
    ),
    "server-requesting": Setup(
        Role.SERVER, "server-active", (("received", ev.JoinRoom(2, "dev")),)
    ),
    "client-fresh": Setup(Role.CLIENT, None, ()),
    "client-hello-sent": Setup(Role.CLIENT, "client-fresh", (("sent", _CLIENT_HELLO),)),
    "client-greeted": Setup(Role.CLIENT, "client-hello-sent", (("received", _SERVER_HELLO),)),
    "client-login-sent": Setup(
        Role.CLIENT, "client-greeted", (("sent", ev.Login("alice", "pw", 0, 0)),)
    ),
    "client-listing": Setup(Role.CLIENT, "client-login-sent", (("received", _FIRST_PAGE),)),
    "client-active": Setup(Role.CLIENT, "client-login-sent", (("received", _WELCOME),)),
    "client-offered": Setup(Role.CLIENT, "client-active", (("sent", _OFFER),)),
    "client-uploading": Setup(
        Role.CLIENT, "client-offered", (("received", ev.FileAccepted(1)),)
    ),
    "client-uploading-v4": Setup(
        Role.CLIENT, "client-hello-sent",
        (("received", _HELLO_V4), ("sent", _LOGIN), ("received", _WELCOME), ("sent", _OFFER),
         ("received", ev.FileAccepted(1))),
    ),
    "client-fetching": Setup(Role.CLIENT, "client-active", (("sent", ev.FetchFile(5, 6)),)),
    "client-active-v3": Setup(
        Role.CLIENT, "client-hello-sent",
        (("received", _HELLO_V3), ("sent", _LOGIN), ("received", _WELCOME)),
    ),
    "client-searching": Setup(
        Role.CLIENT, "client-active", (("sent", ev.SearchHistory(6, "hi", 1)),)
    ),
    "client-listing-rooms": Setup(Role.CLIENT, "client-active", (("sent", ev.ListRooms(5)),)),
    "client-joining": Setup(Role.CLIENT, "client-active", (("sent", ev.JoinRoom(2, "dev")),)),
    "client-transient-login-sent": Setup(
        Role.CLIENT, "client-greeted", (("sent", _TRANSIENT),)
    ),
    "client-transient": Setup(
        Role.CLIENT, "client-transient-login-sent", (("received", _TRANSIENT_ACCEPTED),)
    ),
    "client-transient-uploading": Setup(
        Role.CLIENT, "client-transient",
        (("sent", _OFFER), ("received", ev.FileAccepted(1)),
         ("sent", ev.FileChunk(1, 0, b"hello world")), ("sent", ev.FileEnd(1))),
    ),
}


def build(key: str) -> Connection:
    """A real connection in the state ``SETUPS[key]`` describes."""
    setup = SETUPS[key]
    if setup.base is not None:
        conn = build(setup.base)
    else:
        conn = ServerConnection() if setup.role is Role.SERVER else ClientConnection()
    assert conn.our_role is setup.role
    for verb, event in setup.steps:
        if verb == "sent":
            conn.send(event)
        else:
            conn.receive_data(encode_event(event))
            received = conn.next_event()
            if received != event:
                raise AssertionError(f"{key}: {event!r} came out as {received!r}")
    return conn


def describe_event(event: ev.Event) -> str:
    fields = ", ".join(f"{k}={_json(v)}" for k, v in vector_fields(event).items())
    return f"{type(event).__name__}({fields})"


def render_setups() -> str:
    out = ["| state | receiver | what the receiver has done since the connection opened |",
           "| --- | --- | --- |"]
    for key, setup in SETUPS.items():
        steps = [f"{verb} `{describe_event(event)}`" for verb, event in setup.steps]
        if setup.base is not None and SETUPS[setup.base].steps:
            steps.insert(0, f"as `{setup.base}`")
        out.append(f"| `{key}` | {setup.role.value} | {'; then '.join(steps) or 'nothing'} |")
    return "\n".join(out) + "\n"


def _frame(type_code: int, payload: bytes) -> bytes:
    return wire.HEADER.pack(type_code, len(payload)) + payload


def patched(event: ev.Event, **raw: int | bytes) -> bytes:
    """The frame of ``event`` with some fields' wire values replaced: an int is packed as
    the fixed field's wire type, bytes are a variable field's content (its length prefix
    follows them). No check runs on the replaced values."""
    layout = wire.LAYOUT_BY_CLASS[type(event)]
    payload = encode_event(event)[HEADER_SIZE:]
    values = list(layout.struct.unpack_from(payload))
    parts, pos = [], layout.fixed_size
    for index in range(len(layout.variable)):
        length = values[layout.n_fixed + index]
        parts.append(payload[pos : pos + length])
        pos += length
    tail = payload[pos:]
    fixed = [name for name, _ in layout.fixed]
    variable = [name for name, _ in layout.variable]
    for name, value in raw.items():
        if isinstance(value, int):
            values[fixed.index(name)] = value
        else:
            index = variable.index(name)
            parts[index] = value
            values[layout.n_fixed + index] = len(value)
    return _frame(layout.type_code, layout.struct.pack(*values) + b"".join(parts) + tail)


def _frames(*events: ev.Event) -> bytes:
    return b"".join(encode_event(event) for event in events)


def _nfc(name: str) -> bytes:
    return unicodedata.normalize("NFC", name).encode()


def _entry(code: int, name: bytes) -> bytes:
    return bytes((code, len(name))) + name


_GOODBYE_HI = encode_event(ev.Goodbye("hi"))
_CHAT = ev.SendChat("hi")
_PRESENCE = ev.Presence("bob", ev.PresenceState.JOINED, 2)
_AVAILABLE = ev.FileAvailable(1, _TS, 5, "bob", None, "a.txt", 11, _SHA, 0)
_M = ErrorCode
_PRESENCE_MAX = wire.LAYOUT_BY_CLASS[ev.Presence].max_payload

#: (fault, state, bytes, the stream ends after them, the error code).
INVALID: tuple[tuple[str, str, bytes, bool, str], ...] = (
    # -- framing: the header ------------------------------------------------------
    ("type code 0x0a, not a message type", "server-fresh", _frame(0x0A, b""), False,
     _M.UNKNOWN_TYPE),
    ("type code 0x00, not a message type", "client-active", _frame(0x00, b"\x00"), False,
     _M.UNKNOWN_TYPE),
    ("a Ping header announcing 9 payload bytes (the most a Ping has is 8), body not sent",
     "server-greeted", wire.HEADER.pack(0x05, 9), False, _M.FRAME_TOO_LARGE),
    (f"a Presence header announcing {_PRESENCE_MAX + 1} bytes (as a name of "
     f"{MAX_USERNAME_BYTES + 1} bytes would need; the most a Presence has is {_PRESENCE_MAX}), "
     "body not sent",
     "client-active", wire.HEADER.pack(0x13, _PRESENCE_MAX + 1), False, _M.FRAME_TOO_LARGE),
    (f"a FileChunk header over the receiver's max_frame_size ({DEFAULT_MAX_FRAME_SIZE}), "
     "body not sent", "server-active", wire.HEADER.pack(0x23, DEFAULT_MAX_FRAME_SIZE + 1),
     False, _M.FRAME_TOO_LARGE),
    ("the stream ends inside a header", "server-greeted", b"\x10\x00\x00", True,
     _M.TRUNCATED),
    ("the stream ends inside a payload", "server-fresh",
     encode_event(_CLIENT_HELLO)[:8], True, _M.TRUNCATED),
    # -- framing: the payload's structure --------------------------------------------
    ("a Ping payload of 7 bytes, shorter than its fixed part (8)", "server-greeted",
     _frame(0x05, bytes(7)), False, _M.MALFORMED),
    ("a Goodbye whose message length (5) runs past the end of the payload", "server-active",
     _frame(0x07, b"\x00\x05hi"), False, _M.MALFORMED),
    ("a Goodbye with one byte after its last field", "server-active",
     _frame(0x07, _GOODBYE_HI[HEADER_SIZE:] + b"!"), False, _M.MALFORMED),
    ("a participant entry cut by the end of its field (name length 5, 3 bytes left)",
     "client-login-sent", patched(_WELCOME, participants=b"\x01\x05ali"), False,
     _M.MALFORMED),
    # -- field values --------------------------------------------------------------------
    ("a bool of 2 (LoginAccepted.new_account)", "client-login-sent",
     patched(_WELCOME, new_account=2), False, _M.INVALID_FIELD),
    ("presence code 0", "client-active", patched(_PRESENCE, state=0), False,
     _M.INVALID_FIELD),
    ("presence code 5", "client-active", patched(_PRESENCE, state=5), False,
     _M.INVALID_FIELD),
    ("participant state code 3", "client-login-sent",
     patched(_WELCOME, participants=_entry(3, b"alice")), False, _M.INVALID_FIELD),
    ("participant state code 0", "client-login-sent",
     patched(_WELCOME, participants=_entry(0, b"alice")), False, _M.INVALID_FIELD),
    ("text that is not UTF-8 (byte ff)", "server-active", patched(_CHAT, text=b"\xff"),
     False, _M.BAD_UTF8),
    ("text with an encoded surrogate (U+D800 as ed a0 80)", "server-active",
     patched(_CHAT, text=b"\xed\xa0\x80"), False, _M.BAD_UTF8),
    ("text with an over-long encoding (/ as c0 af)", "server-active",
     patched(_CHAT, text=b"\xc0\xaf"), False, _M.BAD_UTF8),
    ("text cut inside a character (the first 2 of the 3 bytes of 가)", "server-active",
     patched(_CHAT, text="가".encode()[:2]), False, _M.BAD_UTF8),
    ("a message (Goodbye) that is not UTF-8", "server-active",
     _frame(0x07, b"\x00\x01\x80"), False, _M.BAD_UTF8),
    ("a name that is not UTF-8", "client-active", patched(_PRESENCE, user=b"b\xffb"), False,
     _M.BAD_UTF8),
    (f"a name of {MAX_USERNAME_BYTES + 1} bytes, over the field's limit "
     "(SendChat.recipient)", "server-active",
     patched(_CHAT, recipient=b"a" * (MAX_USERNAME_BYTES + 1)), False, _M.INVALID_FIELD),
    (f"a name of {MAX_USERNAME_CHARS + 1} characters", "client-active",
     patched(_PRESENCE, user=b"a" * (MAX_USERNAME_CHARS + 1)), False, _M.INVALID_FIELD),
    ("an empty name in a name field (ChatMessage.sender)", "client-active",
     patched(ev.ChatMessage(1, _TS, 0, "bob", None, "hi"), sender=b""), False,
     _M.INVALID_FIELD),
    ("a name with a space (SendChat.recipient \"b b\")", "server-active",
     patched(ev.SendChat("hi", "bob"), recipient=b"b b"), False, _M.INVALID_FIELD),
    ("a name not in NFC (e + U+0301 COMBINING ACUTE ACCENT)", "client-active",
     patched(_PRESENCE, user="bobe\u0301".encode()), False, _M.INVALID_FIELD),
    ("a name mixing scripts (Latin b, Cyrillic o U+043E, Latin b)", "server-active",
     patched(ev.SendChat("hi", "bob"), recipient="b\u043eb".encode()), False,
     _M.INVALID_FIELD),
    ("a name with a letter of no script (U+02BC MODIFIER LETTER APOSTROPHE)", "client-active",
     patched(_PRESENCE, user="o\u02bcbrien".encode()), False, _M.INVALID_FIELD),
    ("a name mixing number systems (U+0661 ARABIC-INDIC DIGIT ONE and 2)", "client-active",
     patched(_PRESENCE, user="bob\u06612".encode()), False, _M.INVALID_FIELD),
    ("a name with a digit that is not Nd (² U+00B2)", "client-active",
     patched(_PRESENCE, user="bob\u00b2".encode()), False, _M.INVALID_FIELD),
    ("a name with a default-ignorable character (U+200B ZERO WIDTH SPACE)", "client-active",
     patched(_PRESENCE, user="bo\u200bb".encode()), False, _M.INVALID_FIELD),
    ("a name starting with a byte order mark (U+FEFF)", "client-active",
     patched(_PRESENCE, user="\ufeffbob".encode()), False, _M.INVALID_FIELD),
    ("a name with a combining mark after '_' (U+0301)", "client-active",
     patched(_PRESENCE, user="bob_\u0301".encode()), False, _M.INVALID_FIELD),
    ("a name with an enclosing mark (U+20DD COMBINING ENCLOSING CIRCLE, Me)", "client-active",
     patched(_PRESENCE, user="bob\u20dd".encode()), False, _M.INVALID_FIELD),
    (f"a name with {names.MAX_MARKS_IN_A_ROW + 1} combining marks in a row (U+0300..U+0304)",
     "client-active",
     patched(_PRESENCE, user=_nfc("bo" + "".join(
         chr(0x300 + i) for i in range(names.MAX_MARKS_IN_A_ROW + 1)) + "b")),
     False, _M.INVALID_FIELD),
    ("a name repeating a combining mark (ö U+00F6 + U+0308: o, U+0308, U+0308 in NFD)",
     "client-active", patched(_PRESENCE, user=_nfc("bo\u0308\u0308b")), False,
     _M.INVALID_FIELD),
    ("a name in a participant entry with a '/'", "client-login-sent",
     patched(_WELCOME, participants=_entry(1, b"a/b")), False, _M.INVALID_FIELD),
    ("a code with an upper-case letter (LoginRejected.reason \"Bad-password\")",
     "client-login-sent", patched(ev.LoginRejected("bad-password"), reason=b"Bad-password"),
     False, _M.INVALID_FIELD),
    ("an empty code (Error.code)", "server-active", patched(ev.Error("timeout"), code=b""),
     False, _M.INVALID_FIELD),
    ("a code with a doubled '-' (Error.code \"too--slow\")", "client-active",
     patched(ev.Error("timeout"), code=b"too--slow"), False, _M.INVALID_FIELD),
    (f"a code of {MAX_TOKEN_BYTES + 1} bytes", "client-active",
     patched(ev.Error("timeout"), code=b"a" * (MAX_TOKEN_BYTES + 1)), False,
     _M.INVALID_FIELD),
    (f"a resume token of {RESUME_TOKEN_BYTES - 1} bytes (Login.resume_token)",
     "server-greeted",
     patched(ev.Login("alice", "", 0, 0, _RESUME_TOKEN), resume_token=_RESUME_TOKEN[:-1]),
     False, _M.INVALID_FIELD),
    (f"a resume token of {RESUME_TOKEN_BYTES + 1} bytes, over the field's limit "
     "(LoginAccepted.resume_token)", "client-login-sent",
     patched(_WELCOME, resume_token=_RESUME_TOKEN + b"!"), False, _M.INVALID_FIELD),
    ("an empty file name", "server-active", patched(_OFFER, name=b""), False,
     _M.INVALID_FIELD),
    ("a file name with a NUL", "server-active", patched(_OFFER, name=b"a\x00.txt"), False,
     _M.INVALID_FIELD),
    # -- value rules -------------------------------------------------------------------
    ("Hello version 0", "server-fresh", patched(_CLIENT_HELLO, version=0), False,
     _M.UNSUPPORTED_VERSION),
    ("Hello version 1 (before resume tokens: its Login has another layout)", "server-fresh",
     patched(_CLIENT_HELLO, version=1), False, _M.UNSUPPORTED_VERSION),
    (f"Hello max_frame_size {MIN_FRAME_SIZE - 1}, below MIN_FRAME_SIZE", "server-fresh",
     patched(_CLIENT_HELLO, max_frame_size=MIN_FRAME_SIZE - 1), False, _M.INVALID_FIELD),
    (f"the server's Hello with version {PROTOCOL_VERSION + 1}, above the client's offer",
     "client-hello-sent", patched(_SERVER_HELLO, version=PROTOCOL_VERSION + 1), False,
     _M.UNSUPPORTED_VERSION),
    ("the server's Hello with version 0", "client-hello-sent",
     patched(_SERVER_HELLO, version=0), False, _M.UNSUPPORTED_VERSION),
    ("the server's Hello with version 1", "client-hello-sent",
     patched(_SERVER_HELLO, version=1), False, _M.UNSUPPORTED_VERSION),
    ("a Login with an empty password and no resume token", "server-greeted",
     patched(ev.Login("alice", "pw"), password=b""), False, _M.INVALID_FIELD),
    ("a Login with both a password and a resume token", "server-greeted",
     patched(ev.Login("alice", "pw"), resume_token=_RESUME_TOKEN), False, _M.INVALID_FIELD),
    ("a TransientLogin with an empty password", "server-greeted",
     patched(_TRANSIENT, password=b""), False, _M.INVALID_FIELD),
    ("FileOffer.size MAX_FILE_SIZE + 1", "server-active",
     patched(_OFFER, size=MAX_FILE_SIZE + 1), False, _M.INVALID_FIELD),
    ("FileAvailable.size MAX_FILE_SIZE + 1", "client-active",
     patched(_AVAILABLE, size=MAX_FILE_SIZE + 1), False, _M.INVALID_FIELD),
    ("LoginAccepted with participant_count 1 and two entries", "client-login-sent",
     patched(_WELCOME, participants=_entry(1, b"alice") + _entry(1, b"bob")), False,
     _M.INVALID_FIELD),
    (f"LoginAccepted with participant_count {MAX_PARTICIPANTS + 1} (over MAX_PARTICIPANTS)",
     "client-login-sent", patched(_WELCOME, participant_count=MAX_PARTICIPANTS + 1), False,
     _M.INVALID_FIELD),
    ("an empty ParticipantList", "client-listing", _frame(0x14, bytes(4)), False,
     _M.INVALID_FIELD),
    ("a ParticipantList with 3 entries when 2 are due", "client-listing",
     encode_event(ev.ParticipantList(
         (ev.Participant("bob"), ev.Participant("carol"), ev.Participant("dave"))
     )), False, _M.INVALID_FIELD),
    # -- the state machines --------------------------------------------------------------
    ("Login before Hello", "server-fresh", encode_event(ev.Login("alice", "pw")), False,
     _M.UNEXPECTED_MESSAGE),
    ("a second Hello", "server-greeted", encode_event(_CLIENT_HELLO), False,
     _M.UNEXPECTED_MESSAGE),
    ("SendChat before login", "server-greeted", encode_event(_CHAT), False,
     _M.UNEXPECTED_MESSAGE),
    ("a second Login while the first awaits its verdict", "server-greeted",
     _frames(ev.Login("alice", "pw"), ev.Login("alice", "pw")), False,
     _M.UNEXPECTED_MESSAGE),
    ("a Ping after Goodbye", "server-active", _frames(ev.Goodbye(), ev.Ping(1)), False,
     _M.UNEXPECTED_MESSAGE),
    ("a Goodbye after Error", "server-active", _frames(ev.Error("timeout"), ev.Goodbye()),
     False, _M.UNEXPECTED_MESSAGE),
    ("the server's Hello before the client's", "client-fresh",
     encode_event(_SERVER_HELLO), False, _M.UNEXPECTED_MESSAGE),
    ("LoginAccepted without a pending Login", "client-greeted", encode_event(_WELCOME),
     False, _M.UNEXPECTED_MESSAGE),
    ("ParticipantList when no page is due", "client-active",
     encode_event(ev.ParticipantList((ev.Participant("bob"),))), False,
     _M.UNEXPECTED_MESSAGE),
    ("a ChatMessage before the participant list is complete", "client-listing",
     encode_event(ev.ChatMessage(1, _TS, 0, "bob", None, "hi")), False,
     _M.UNEXPECTED_MESSAGE),
    ("a Ping before the participant list is complete", "client-listing",
     encode_event(ev.Ping(1)), False, _M.UNEXPECTED_MESSAGE),
    # -- transient logins (7.9) ----------------------------------------------------------
    ("a TransientLogin before the server's Hello (the client cannot know its version)",
     "server-hello-received", encode_event(_TRANSIENT), False, _M.UNEXPECTED_MESSAGE),
    (f"a TransientLogin when version {OLDEST_PROTOCOL_VERSION} was agreed",
     "server-greeted-v2", encode_event(_TRANSIENT), False, _M.UNEXPECTED_MESSAGE),
    ("a LoginAccepted with a resume token, answering a TransientLogin",
     "client-transient-login-sent",
     encode_event(attrs.evolve(_TRANSIENT_ACCEPTED, resume_token=_RESUME_TOKEN)), False,
     _M.INVALID_FIELD),
    ("a Presence to a transient connection", "client-transient", encode_event(_PRESENCE),
     False, _M.UNEXPECTED_MESSAGE),
    ("a ChatMessage of another user to a transient connection", "client-transient",
     encode_event(ev.ChatMessage(1, _TS, 0, "bob", None, "hi")), False,
     _M.UNEXPECTED_MESSAGE),
    ("a FileAvailable of another user's upload to a transient connection",
     "client-transient-uploading", encode_event(attrs.evolve(_AVAILABLE, upload_id=1)), False,
     _M.UNEXPECTED_MESSAGE),
    ("a FetchFile from a transient connection", "server-transient",
     encode_event(ev.FetchFile(5)), False, _M.UNEXPECTED_MESSAGE),
    # -- transfers ---------------------------------------------------------------------
    ("FileOffer with an upload id that is open", "server-uploading",
     encode_event(_OFFER), False, _M.UNEXPECTED_MESSAGE),
    (f"FileOffer number {MAX_OPEN_UPLOADS + 1} while {MAX_OPEN_UPLOADS} are open",
     "server-active",
     _frames(*(ev.FileOffer(i, "a.txt", 11, _SHA) for i in range(1, MAX_OPEN_UPLOADS + 2))),
     False, _M.UNEXPECTED_MESSAGE),
    ("FileChunk before FileAccepted", "server-active",
     _frames(_OFFER, ev.FileChunk(1, 0, b"hello")), False, _M.UNEXPECTED_MESSAGE),
    ("FileChunk of an upload that is not open", "server-active",
     encode_event(ev.FileChunk(9, 0, b"hello")), False, _M.UNEXPECTED_MESSAGE),
    ("FileChunk at offset 1 where 0 is due (a gap)", "server-uploading",
     encode_event(ev.FileChunk(1, 1, b"hello")), False, _M.INVALID_FIELD),
    ("FileChunk at offset 0 again (an overlap)", "server-uploading",
     _frames(ev.FileChunk(1, 0, b"hello"), ev.FileChunk(1, 0, b"hello")), False,
     _M.INVALID_FIELD),
    ("an empty FileChunk", "server-uploading", encode_event(ev.FileChunk(1, 0, b"")),
     False, _M.INVALID_FIELD),
    ("FileChunk past the announced size (12 bytes of 11)", "server-uploading",
     encode_event(ev.FileChunk(1, 0, b"hello world!")), False, _M.INVALID_FIELD),
    ("FileEnd after 5 of 11 bytes", "server-uploading",
     _frames(ev.FileChunk(1, 0, b"hello"), ev.FileEnd(1)), False, _M.UNEXPECTED_MESSAGE),
    ("FetchFile of a file that is being fetched", "server-active",
     _frames(ev.FetchFile(5), ev.FetchFile(5)), False, _M.UNEXPECTED_MESSAGE),
    (f"FetchFile number {MAX_OPEN_FETCHES + 1} while {MAX_OPEN_FETCHES} are open",
     "server-active", _frames(*(ev.FetchFile(i) for i in range(1, MAX_OPEN_FETCHES + 2))),
     False, _M.UNEXPECTED_MESSAGE),
    ("FileAccepted of an upload the client did not offer", "client-active",
     encode_event(ev.FileAccepted(1)), False, _M.UNEXPECTED_MESSAGE),
    ("FileChunk of a file the client is not fetching", "client-active",
     encode_event(ev.FileChunk(5, 0, b"hello")), False, _M.UNEXPECTED_MESSAGE),
    ("FileChunk at offset 0 of a fetch from offset 6", "client-fetching",
     encode_event(ev.FileChunk(5, 0, b"hello")), False, _M.INVALID_FIELD),
    ("FetchRejected of a file the client is not fetching", "client-active",
     encode_event(ev.FetchRejected(5, "not-found")), False, _M.UNEXPECTED_MESSAGE),
    # -- upload tickets (version 5) -------------------------------------------------------
    ("an UploadTicket of an upload the client did not offer", "client-active",
     encode_event(_TICKET), False, _M.UNEXPECTED_MESSAGE),
    ("an UploadTicket before its upload's FileAccepted", "client-offered",
     encode_event(_TICKET), False, _M.UNEXPECTED_MESSAGE),
    ("a second UploadTicket of one upload", "client-uploading", _frames(_TICKET, _TICKET),
     False, _M.UNEXPECTED_MESSAGE),
    ("an UploadTicket when version 4 was agreed", "client-uploading-v4",
     encode_event(_TICKET), False, _M.UNEXPECTED_MESSAGE),
    ("an UploadTicket payload of 43 bytes, a token byte short", "client-uploading",
     _frame(0x28, encode_event(_TICKET)[HEADER_SIZE:-5] + encode_event(_TICKET)[-4:]), False,
     _M.MALFORMED),
    ("an UploadTicket from the client", "server-uploading", encode_event(_TICKET), False,
     _M.UNEXPECTED_MESSAGE),
    # -- rooms and search (version 4) -----------------------------------------------------
    ("a SendChat to #general (general is written as no recipient)", "server-active",
     patched(_CHAT, recipient=b"#general"), False, _M.INVALID_FIELD),
    ("a SendChat to # and an invalid room name", "server-active",
     patched(_CHAT, recipient=b"#a b"), False, _M.INVALID_FIELD),
    ("a SendChat to a room when version 3 was agreed", "server-active-v3",
     encode_event(ev.SendChat("hi", "#dev")), False, _M.UNEXPECTED_MESSAGE),
    ("a ChatMessage in a room to a client that agreed version 3", "client-active-v3",
     encode_event(ev.ChatMessage(1, _TS, 0, "bob", "#dev", "hi")), False,
     _M.UNEXPECTED_MESSAGE),
    ("a JoinRoom when version 3 was agreed", "server-active-v3",
     encode_event(ev.JoinRoom(1, "dev")), False, _M.UNEXPECTED_MESSAGE),
    ("a JoinRoom with a request id that is open", "server-requesting",
     encode_event(ev.JoinRoom(2, "ops")), False, _M.UNEXPECTED_MESSAGE),
    (f"request number {MAX_OPEN_REQUESTS + 1} while {MAX_OPEN_REQUESTS} are open",
     "server-active", _frames(*(ev.ListRooms(i) for i in range(1, MAX_OPEN_REQUESTS + 2))),
     False, _M.UNEXPECTED_MESSAGE),
    ("a SearchHistory with limit 0", "server-active",
     patched(ev.SearchHistory(1, "hi", 1), limit=0), False, _M.INVALID_FIELD),
    (f"a SearchHistory with limit {MAX_SEARCH_LIMIT + 1}", "server-active",
     patched(ev.SearchHistory(1, "hi", 1), limit=MAX_SEARCH_LIMIT + 1), False,
     _M.INVALID_FIELD),
    ("a SearchHistory with an empty query", "server-active",
     patched(ev.SearchHistory(1, "hi", 1), query=b""), False, _M.INVALID_FIELD),
    ("a RequestDone of a request the client did not make", "client-active",
     encode_event(ev.RequestDone(2)), False, _M.UNEXPECTED_MESSAGE),
    ("a RequestDone answering a ListRooms", "client-listing-rooms",
     encode_event(ev.RequestDone(5)), False, _M.UNEXPECTED_MESSAGE),
    ("a SearchDone answering a JoinRoom", "client-joining",
     encode_event(ev.SearchDone(2, False)), False, _M.UNEXPECTED_MESSAGE),
    ("a second SearchHit for a search with limit 1", "client-searching",
     _frames(ev.SearchHit(6, 2, _TS, "bob", None, "hi"),
             ev.SearchHit(6, 1, _TS, "bob", None, "hi")), False, _M.INVALID_FIELD),
    ("a room entry with an unknown flag (4)", "client-listing-rooms",
     patched(ev.RoomList(5, ()), rooms=b"\x04" + bytes(4) + b"\x03dev"), False,
     _M.INVALID_FIELD),
    ("a room entry cut by the end of its field (name length 5, 3 bytes left)",
     "client-listing-rooms", patched(ev.RoomList(5, ()), rooms=bytes(5) + b"\x05dev"), False,
     _M.MALFORMED),
    ("membership code 3", "client-active",
     patched(ev.Membership("dev", "bob", ev.MembershipState.JOINED, 2), state=3), False,
     _M.INVALID_FIELD),
    ("a Membership of the room general", "client-active",
     patched(ev.Membership("dev", "bob", ev.MembershipState.JOINED, 2), room=b"general"),
     False, _M.INVALID_FIELD),
    ("a Membership to a transient connection", "client-transient",
     encode_event(ev.Membership("dev", "bob", ev.MembershipState.JOINED, 2)), False,
     _M.UNEXPECTED_MESSAGE),
)


def render_invalid() -> str:
    out = ["| # | fault | receiver | state | bytes (hex) | error |",
           "| --- | --- | --- | --- | --- | --- |"]
    for number, (fault, key, data, eof, code) in enumerate(INVALID, start=1):
        shown = f"`{spaced_hex(data)}`" + (" + end of stream" if eof else "")
        role = SETUPS[key].role.value
        out.append(f"| {number} | {fault} | {role} | `{key}` | {shown} | `{code}` |")
    return "\n".join(out) + "\n"


# -- the document ------------------------------------------------------------------

SECTIONS = {
    "limits": render_limits,
    "names": render_names,
    "codes": render_codes,
    "states": render_states,
    "message-tables": render_tables,
    "test-vectors": render_vectors,
    "invalid-states": render_setups,
    "invalid-vectors": render_invalid,
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
