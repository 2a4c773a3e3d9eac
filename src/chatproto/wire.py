"""Byte layout of every message: one declarative table, read by both codecs.

A frame is ``type:u8 | length:u32 | payload``. A payload is a fixed part (the
integer fields, then the length prefix of each variable field, big-endian,
packed by one ``struct``) followed by the variable fields' bytes in order.
The table ``LAYOUTS`` is the single source of truth for the reference codec
(``_reference_codec.py``), the generated codec (``_generated_codec.py``), the
per-type size limits of the receive buffer and the field tables in
``docs/protocol.md``. Nothing here encodes or decodes: ``_codec.py`` does.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import attrs

from . import events as ev
from . import rules
from .fields import (
    BOOL,
    DATA,
    FILENAME,
    LOGIN_NAME,
    MEMBERSHIP,
    MESSAGE,
    NAME,
    OPTIONAL_NAME,
    OPTIONAL_ROOM,
    PASSWORD,
    PRESENCE,
    QUERY,
    RESUME_TOKEN,
    ROOM,
    SHA256,
    SOFTWARE,
    TARGET,
    TEXT,
    TOKEN,
    U16,
    U32,
    U64,
    Kind,
)
from .limits import HEADER_SIZE
from .list_fields import PARTICIPANTS, ROOMS

HEADER = struct.Struct("!BI")

Field = tuple[str, Kind]


class Layout:
    """The wire form of one message type, derived from its field list.

    ``fixed`` are the integer-like fields in wire order, ``variable`` the
    length-prefixed ones; when ``ends_with_data`` the last field is ``DATA``,
    the raw rest of the payload. ``struct`` packs the fixed fields and then
    one length prefix per variable field.
    """

    __slots__ = (
        "argument_order",
        "ends_with_data",
        "event_class",
        "fields",
        "fixed",
        "fixed_size",
        "max_payload",
        "n_fixed",
        "rule",
        "struct",
        "type_code",
        "variable",
    )

    def __init__(
        self,
        type_code: int,
        event_class: type[ev.Event],
        fields: Sequence[Field],
        rule: rules.Rule | None = None,
    ) -> None:
        self.type_code = type_code
        self.event_class = event_class
        self.fields: tuple[Field, ...] = tuple(fields)
        #: The event-wide value rule (``rules.py``), run by both codecs.
        self.rule = rule
        self.fixed: tuple[Field, ...] = tuple((n, k) for n, k in fields if not k.variable)
        self.variable: tuple[Field, ...] = tuple(
            (n, k) for n, k in fields if k.variable and k is not DATA
        )
        self.ends_with_data = any(k is DATA for _, k in fields)
        if self.ends_with_data and fields[-1][1] is not DATA:
            raise ValueError("DATA must be the last field")
        # Values are decoded in wire order; ``argument_order`` maps them onto
        # the event class's positional arguments (None when the orders agree,
        # as for the hot ChatMessage).
        names = [f.name for f in attrs.fields(event_class)]  # type: ignore[arg-type]
        wire_names = [n for n, _ in self.fixed] + [n for n, _ in self.variable]
        if self.ends_with_data:
            wire_names.append(fields[-1][0])
        if sorted(wire_names) != sorted(names):
            raise ValueError(f"{event_class.__name__}: wire fields {wire_names} != {names}")
        order = tuple(wire_names.index(name) for name in names)
        self.argument_order = None if order == tuple(range(len(names))) else order
        fmt = "!" + "".join(k.struct_code for _, k in self.fixed)
        fmt += "".join(k.struct_code for _, k in self.variable)
        self.struct = struct.Struct(fmt)
        self.fixed_size = self.struct.size
        self.n_fixed = len(self.fixed)
        self.max_payload = self.fixed_size + sum(k.max_bytes for _, k in self.variable)

    def max_payload_for(self, max_frame_size: int) -> int:
        return max_frame_size if self.ends_with_data else min(self.max_payload, max_frame_size)

    def __repr__(self) -> str:
        return f"<Layout 0x{self.type_code:02x} {self.event_class.__name__}>"


LAYOUTS: tuple[Layout, ...] = (
    Layout(
        0x01,
        ev.Hello,
        [("version", U16), ("max_frame_size", U32), ("software", SOFTWARE)],
        rules.hello,
    ),
    Layout(
        0x02,
        ev.Login,
        [
            ("last_seen_seq", U64),
            ("epoch", U64),
            ("username", LOGIN_NAME),
            ("password", PASSWORD),
            ("resume_token", RESUME_TOKEN),
        ],
        rules.login,
    ),
    Layout(
        0x03,
        ev.LoginAccepted,
        [
            ("new_account", BOOL),
            ("rejoined", BOOL),
            ("history_reset", BOOL),
            ("last_seq", U64),
            ("epoch", U64),
            ("participant_count", U32),
            ("username", NAME),
            ("resume_token", RESUME_TOKEN),
            ("participants", PARTICIPANTS),
        ],
        rules.login_accepted,
    ),
    Layout(0x04, ev.LoginRejected, [("reason", TOKEN), ("message", MESSAGE)]),
    Layout(0x05, ev.Ping, [("nonce", U64)]),
    Layout(0x06, ev.Pong, [("nonce", U64)]),
    Layout(0x07, ev.Goodbye, [("message", MESSAGE)]),
    Layout(0x08, ev.Error, [("code", TOKEN), ("message", MESSAGE)]),
    Layout(
        0x09,
        ev.TransientLogin,
        [("username", LOGIN_NAME), ("password", PASSWORD)],
        rules.transient_login,
    ),
    Layout(0x10, ev.SendChat, [("client_id", U64), ("recipient", TARGET), ("text", TEXT)]),
    Layout(
        0x11,
        ev.ChatMessage,
        [
            ("seq", U64),
            ("timestamp_ms", U64),
            ("client_id", U64),
            ("sender", NAME),
            ("recipient", TARGET),
            ("text", TEXT),
        ],
    ),
    Layout(0x12, ev.ChatRejected, [("client_id", U64), ("reason", TOKEN), ("message", MESSAGE)]),
    Layout(0x13, ev.Presence, [("state", PRESENCE), ("participant_count", U32), ("user", NAME)]),
    Layout(0x14, ev.ParticipantList, [("participants", PARTICIPANTS)], rules.participant_list),
    Layout(
        0x20,
        ev.FileOffer,
        [
            ("upload_id", U64),
            ("size", U64),
            ("sha256", SHA256),
            ("recipient", TARGET),
            ("name", FILENAME),
        ],
        rules.file_size,
    ),
    Layout(0x21, ev.FileAccepted, [("upload_id", U64)]),
    Layout(0x22, ev.FileRejected, [("upload_id", U64), ("reason", TOKEN), ("message", MESSAGE)]),
    Layout(0x23, ev.FileChunk, [("transfer_id", U64), ("offset", U64), ("data", DATA)]),
    Layout(0x24, ev.FileEnd, [("transfer_id", U64)]),
    Layout(
        0x25,
        ev.FileAvailable,
        [
            ("seq", U64),
            ("timestamp_ms", U64),
            ("file_id", U64),
            ("size", U64),
            ("upload_id", U64),
            ("sha256", SHA256),
            ("sender", NAME),
            ("recipient", TARGET),
            ("name", FILENAME),
        ],
        rules.file_size,
    ),
    Layout(0x26, ev.FetchFile, [("file_id", U64), ("offset", U64)]),
    Layout(0x27, ev.FetchRejected, [("file_id", U64), ("reason", TOKEN), ("message", MESSAGE)]),
    # Version 5, WebSocket only: the token of an upload whose bytes come over
    # HTTP. ``token`` is 32 raw bytes, carried as ``sha256`` is (the fixed kind).
    Layout(
        0x28,
        ev.UploadTicket,
        [("upload_id", U64), ("token", SHA256), ("expires_in_ms", U32)],
    ),
    # Rooms and search, version 4 on: requests 0x30-0x35, answers 0x38-0x3c.
    Layout(0x30, ev.CreateRoom, [("request_id", U64), ("private", BOOL), ("room", NAME)]),
    Layout(0x31, ev.JoinRoom, [("request_id", U64), ("room", NAME)]),
    Layout(0x32, ev.LeaveRoom, [("request_id", U64), ("room", NAME)]),
    Layout(0x33, ev.InviteToRoom, [("request_id", U64), ("room", NAME), ("user", NAME)]),
    Layout(0x34, ev.ListRooms, [("request_id", U64)]),
    Layout(
        0x35,
        ev.SearchHistory,
        [
            ("request_id", U64),
            ("before_seq", U64),
            ("limit", U16),
            ("room", OPTIONAL_ROOM),
            ("sender", OPTIONAL_NAME),
            ("query", QUERY),
        ],
        rules.search_limit,
    ),
    Layout(0x38, ev.RequestDone, [("request_id", U64)]),
    Layout(
        0x39, ev.RequestRejected, [("request_id", U64), ("reason", TOKEN), ("message", MESSAGE)]
    ),
    Layout(0x3A, ev.RoomList, [("request_id", U64), ("more", BOOL), ("rooms", ROOMS)]),
    Layout(
        0x3B,
        ev.SearchHit,
        [
            ("request_id", U64),
            ("seq", U64),
            ("timestamp_ms", U64),
            ("sender", NAME),
            ("recipient", TARGET),
            ("text", TEXT),
        ],
    ),
    Layout(0x3C, ev.SearchDone, [("request_id", U64), ("more", BOOL)]),
    Layout(
        0x3D,
        ev.Membership,
        [("state", MEMBERSHIP), ("member_count", U32), ("room", ROOM), ("user", NAME)],
    ),
)

LAYOUT_BY_CODE: dict[int, Layout] = {layout.type_code: layout for layout in LAYOUTS}
LAYOUT_BY_CLASS: dict[type[ev.Event], Layout] = {layout.event_class: layout for layout in LAYOUTS}


__all__ = ["HEADER", "HEADER_SIZE", "LAYOUTS", "LAYOUT_BY_CLASS", "LAYOUT_BY_CODE", "Layout"]
