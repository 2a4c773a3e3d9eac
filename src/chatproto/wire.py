"""Byte layout of every message: one declarative table, one generic codec.

A frame is ``type:u8 | length:u32 | payload``. A payload is a fixed part (the
integer fields, then the length prefix of each variable field, big-endian,
packed by one ``struct``) followed by the variable fields' bytes in order.
The table ``LAYOUTS`` is the single source of truth for encoder, decoder,
per-type size limits and the field tables in ``docs/protocol.md``.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

import attrs

from . import events as ev
from . import rules
from .errors import ErrorCode, LocalProtocolError, RemoteProtocolError
from .fastcodec import compile_layout
from .fields import (
    _PRESENCE_BY_CODE,
    _PRESENCE_CODES,
    _STRUCT_RANGES,
    BOOL,
    DATA,
    FILENAME,
    LOGIN_NAME,
    MESSAGE,
    NAME,
    OPTIONAL_NAME,
    PARTICIPANTS,
    PASSWORD,
    PRESENCE,
    SHA256,
    SOFTWARE,
    TEXT,
    TOKEN,
    U16,
    U32,
    U64,
    Kind,
    _encode_bytes,
    _Invalid,
)
from .limits import HEADER_SIZE, MAX_PARTICIPANTS, MAX_TEXT_BYTES, MAX_USERNAME_BYTES

HEADER = struct.Struct("!BI")


class Layout:
    """Encoder and decoder of one message type, compiled from its field list."""

    def __init__(
        self,
        type_code: int,
        event_class: type[ev.Event],
        fields: Sequence[tuple[str, Kind]],
        rule: rules.Rule | None = None,
    ) -> None:
        self.type_code = type_code
        self.event_class = event_class
        self.fields = tuple(fields)
        #: The event-wide value rule (``rules.py``), run by both codecs.
        self.rule = rule
        self.fixed = [(n, k) for n, k in fields if not k.variable]
        self.variable = [(n, k) for n, k in fields if k.variable and k is not DATA]
        self.trailing_data = any(k is DATA for _, k in fields)
        if self.trailing_data and fields[-1][1] is not DATA:
            raise ValueError("DATA must be the last field")
        # Values are decoded in wire order; ``_order`` maps them onto the
        # event class's positional arguments (None when the orders agree,
        # as for the hot ChatMessage).
        names = [f.name for f in attrs.fields(event_class)]  # type: ignore[arg-type]
        wire_names = [n for n, _ in self.fixed] + [n for n, _ in self.variable]
        if self.trailing_data:
            wire_names.append(fields[-1][0])
        if sorted(wire_names) != sorted(names):
            raise ValueError(f"{event_class.__name__}: wire fields {wire_names} != {names}")
        order = [wire_names.index(name) for name in names]
        self._order = None if order == list(range(len(names))) else order
        fmt = "!" + "".join(k.struct_code for _, k in self.fixed)
        fmt += "".join(k.struct_code for _, k in self.variable)
        self.struct = struct.Struct(fmt)
        self.fixed_size = self.struct.size
        self.n_fixed = len(self.fixed)
        self.max_payload = self.fixed_size + sum(k.max_bytes for _, k in self.variable)
        self._decode_variable = [(k.from_bytes, k.check, k.max_bytes, n) for n, k in self.variable]
        self._bools = [i for i, (_, k) in enumerate(self.fixed) if k is BOOL]
        self._presence = [i for i, (_, k) in enumerate(self.fixed) if k is PRESENCE]
        self.fast_encode, self.fast_decode = compile_layout(self)

    def max_payload_for(self, max_frame_size: int) -> int:
        return max_frame_size if self.trailing_data else min(self.max_payload, max_frame_size)

    # -- encoding -----------------------------------------------------------

    def encode(self, event: ev.Event, max_text_bytes: int = MAX_TEXT_BYTES) -> bytes:
        """Frame ``event``; raises ``LocalProtocolError`` if a field is invalid."""
        try:
            return self.fast_encode(event, max_text_bytes)
        except Exception:
            # The fast path refuses anything unusual (str subclasses such as
            # StrEnum members, bytearrays); the reference codec has the last word.
            return self.reference_encode(event, max_text_bytes)

    def reference_encode(self, event: ev.Event, max_text_bytes: int = MAX_TEXT_BYTES) -> bytes:
        """``encode`` without the fast path: for a caller whose fast try failed."""
        try:
            return self._encode(event, max_text_bytes)
        except _Invalid as exc:
            raise LocalProtocolError(
                f"cannot send {type(event).__name__}: {exc}", exc.code
            ) from None
        except (struct.error, AttributeError, TypeError, ValueError) as exc:
            raise LocalProtocolError(f"cannot send {type(event).__name__}: {exc}") from None

    def _encode(self, event: ev.Event, max_text_bytes: int) -> bytes:
        if self.rule is not None:
            self.rule(event)
        values: list[Any] = []
        for name, kind in self.fixed:
            value = getattr(event, name)
            if kind is BOOL:
                if not isinstance(value, bool):
                    raise _Invalid(f"{name} must be a bool")
                value = int(value)
            elif kind is PRESENCE:
                if value not in _PRESENCE_CODES:
                    raise _Invalid(f"invalid presence state {value!r}")
                value = _PRESENCE_CODES[value]
            elif kind is SHA256:
                if not isinstance(value, bytes) or len(value) != 32:
                    raise _Invalid(f"{name} must be 32 bytes")
            elif type(value) is not int or not 0 <= value <= _STRUCT_RANGES[kind.struct_code]:
                raise _Invalid(f"{name} must be an int in the {kind.name} range, got {value!r}")
            values.append(value)
        parts: list[bytes] = []
        for name, kind in self.variable:
            value = getattr(event, name)
            if kind.check is not None:
                kind.check(value)
            assert kind.to_bytes is not None
            raw = kind.to_bytes(value)
            limit = max_text_bytes if kind is TEXT else kind.max_bytes
            if len(raw) > limit:
                raise _Invalid(f"{name} is {len(raw)} bytes, the limit is {limit}")
            values.append(len(raw))
            parts.append(raw)
        if self.trailing_data:
            parts.append(_encode_bytes(getattr(event, self.fields[-1][0])))
        payload = self.struct.pack(*values) + b"".join(parts)
        return HEADER.pack(self.type_code, len(payload)) + payload

    # -- decoding -----------------------------------------------------------

    def decode(self, payload: bytes, max_text_bytes: int = MAX_TEXT_BYTES) -> ev.Event:
        """Parse one payload; raises ``RemoteProtocolError`` if it is invalid."""
        try:
            return self.fast_decode(payload, max_text_bytes)
        except Exception:
            # The fast path refuses anything it does not expect; the reference
            # decoder has the last word, and says precisely what is wrong.
            return self.reference_decode(payload, max_text_bytes)

    def reference_decode(self, payload: bytes, max_text_bytes: int = MAX_TEXT_BYTES) -> ev.Event:
        """``decode`` without the fast path: for a caller whose fast try failed."""
        try:
            return self._decode(payload, max_text_bytes)
        except _Invalid as exc:
            raise RemoteProtocolError(
                f"invalid {self.event_class.__name__}: {exc}", exc.code
            ) from None
        except (struct.error, ValueError, TypeError) as exc:
            raise RemoteProtocolError(
                f"invalid {self.event_class.__name__}: {exc}", ErrorCode.MALFORMED
            ) from None

    def _decode(self, payload: bytes, max_text_bytes: int) -> ev.Event:
        size = len(payload)
        if size < self.fixed_size:
            raise _Invalid(f"payload of {size} bytes is shorter than its fields", "malformed")
        values = list(self.struct.unpack_from(payload))
        for i in self._bools:
            if values[i] > 1:
                raise _Invalid("a boolean field is neither 0 nor 1")
            values[i] = values[i] == 1
        for i in self._presence:
            state = _PRESENCE_BY_CODE.get(values[i])
            if state is None:
                raise _Invalid(f"invalid presence state {values[i]}")
            values[i] = state
        pos = self.fixed_size
        n = self.n_fixed
        for index, (from_bytes, check, max_bytes, name) in enumerate(self._decode_variable):
            length = values[n + index]
            end = pos + length
            if end > size:
                raise _Invalid(f"{name} runs past the end of the frame", "malformed")
            if length > (max_text_bytes if max_bytes == MAX_TEXT_BYTES else max_bytes):
                raise _Invalid(f"{name} is {length} bytes, over its limit")
            value = from_bytes(payload[pos:end])  # type: ignore[misc]
            if check is not None:
                check(value)
            values[n + index] = value
            pos = end
        if self.trailing_data:
            values.append(payload[pos:])
        elif pos != size:
            raise _Invalid(f"{size - pos} unexpected bytes after the last field", "malformed")
        if self._order is not None:
            values = [values[i] for i in self._order]
        event = self.event_class(*values)
        if self.rule is not None:
            self.rule(event)
        return event


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
        ],
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
            ("participants", PARTICIPANTS),
        ],
        rules.login_accepted,
    ),
    Layout(0x04, ev.LoginRejected, [("reason", TOKEN), ("message", MESSAGE)]),
    Layout(0x05, ev.Ping, [("nonce", U64)]),
    Layout(0x06, ev.Pong, [("nonce", U64)]),
    Layout(0x07, ev.Goodbye, [("message", MESSAGE)]),
    Layout(0x08, ev.Error, [("code", TOKEN), ("message", MESSAGE)]),
    Layout(0x10, ev.SendChat, [("client_id", U64), ("recipient", OPTIONAL_NAME), ("text", TEXT)]),
    Layout(
        0x11,
        ev.ChatMessage,
        [
            ("seq", U64),
            ("timestamp_ms", U64),
            ("client_id", U64),
            ("sender", NAME),
            ("recipient", OPTIONAL_NAME),
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
            ("recipient", OPTIONAL_NAME),
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
            ("recipient", OPTIONAL_NAME),
            ("name", FILENAME),
        ],
        rules.file_size,
    ),
    Layout(0x26, ev.FetchFile, [("file_id", U64), ("offset", U64)]),
    Layout(0x27, ev.FetchRejected, [("file_id", U64), ("reason", TOKEN), ("message", MESSAGE)]),
)

LAYOUT_BY_CODE: dict[int, Layout] = {layout.type_code: layout for layout in LAYOUTS}
LAYOUT_BY_CLASS: dict[type[ev.Event], Layout] = {layout.event_class: layout for layout in LAYOUTS}


def participant_pages(
    participants: Sequence[ev.Participant], max_frame_size: int
) -> list[tuple[ev.Participant, ...]]:
    """Cut a participant list into pages for a peer that accepts payloads of
    ``max_frame_size`` bytes: the first page fits ``LoginAccepted`` (with any
    user name), every later one a ``ParticipantList``. There is always a first
    page, empty for an empty list; no later page is empty."""
    first_room = max_frame_size - LAYOUT_BY_CLASS[ev.LoginAccepted].fixed_size - MAX_USERNAME_BYTES
    room = first_room
    pages: list[tuple[ev.Participant, ...]] = []
    page: list[ev.Participant] = []
    used = 0
    for participant in participants:
        size = 2 + len(participant.name.encode("utf-8"))
        if page and (used + size > room or len(page) == MAX_PARTICIPANTS):
            pages.append(tuple(page))
            page, used = [], 0
            room = max_frame_size - LAYOUT_BY_CLASS[ev.ParticipantList].fixed_size
        page.append(participant)
        used += size
    if page or not pages:
        pages.append(tuple(page))
    return pages


def encode_event(event: ev.Event, max_text_bytes: int = MAX_TEXT_BYTES) -> bytes:
    """The frame for ``event``, with no connection state involved."""
    layout = LAYOUT_BY_CLASS.get(type(event))
    if layout is None:
        raise LocalProtocolError(f"{type(event).__name__} is not sent on the wire")
    return layout.encode(event, max_text_bytes)


__all__ = ["HEADER", "HEADER_SIZE", "LAYOUTS", "Layout", "encode_event", "participant_pages"]
