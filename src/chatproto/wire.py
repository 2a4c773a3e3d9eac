"""Byte layout of every message: one declarative table, one generic codec.

A frame is ``type:u8 | length:u32 | payload``. A payload is a fixed part (the
integer fields, then the length prefix of each variable field, big-endian,
packed by one ``struct``) followed by the variable fields' bytes in order.
The table ``LAYOUTS`` is the single source of truth for encoder, decoder,
per-type size limits and the field tables in ``docs/protocol.md``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from . import events as ev
from .errors import ErrorCode, LocalProtocolError, RemoteProtocolError
from .fastcodec import compile_layout
from .limits import (
    HEADER_SIZE,
    MAX_FILENAME_BYTES,
    MAX_MESSAGE_BYTES,
    MAX_PARTICIPANTS,
    MAX_PASSWORD_BYTES,
    MAX_SOFTWARE_BYTES,
    MAX_TEXT_BYTES,
    MAX_TOKEN_BYTES,
    MAX_USERNAME_BYTES,
    is_valid_token,
    username_problem,
)

HEADER = struct.Struct("!BI")


class _Invalid(Exception):
    """A field failed validation; turned into Local/RemoteProtocolError."""

    def __init__(self, message: str, code: str = ErrorCode.INVALID_FIELD) -> None:
        super().__init__(message)
        self.code = code


@attrs.frozen
class Kind:
    """How one field is carried.

    Fixed kinds have a ``struct`` code; variable kinds have a length-prefix
    code, a maximum length in bytes, and functions between value and bytes.
    """

    name: str
    struct_code: str
    variable: bool = False
    max_bytes: int = 0
    to_bytes: Callable[[Any], bytes] | None = None
    from_bytes: Callable[[bytes], Any] | None = None
    check: Callable[[Any], None] | None = None


def _utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _Invalid("a text field is not valid UTF-8", ErrorCode.BAD_UTF8) from None


def _check_name(value: Any) -> None:
    if not isinstance(value, str):
        raise _Invalid("a user name must be a str")
    problem = username_problem(value)
    if problem is not None:
        raise _Invalid(f"invalid user name {value!r}: {problem}")


def _check_optional_name(value: Any) -> None:
    if value is not None:
        _check_name(value)


def _check_token(value: Any) -> None:
    if not isinstance(value, str) or not is_valid_token(value):
        raise _Invalid(f"invalid code {value!r}")


def _check_filename(value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise _Invalid("a file name must be a non-empty str")
    if "\x00" in value:
        raise _Invalid("a file name must not contain NUL")


def _check_password(value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise _Invalid("the password must be a non-empty str")


def _encode_str(value: Any) -> bytes:
    if not isinstance(value, str):
        raise _Invalid(f"expected str, got {type(value).__name__}")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        raise _Invalid("text contains unpaired surrogates", ErrorCode.BAD_UTF8) from None


def _encode_optional(value: Any) -> bytes:
    return b"" if value is None else _encode_str(value)


def _decode_optional(raw: bytes) -> str | None:
    return _utf8(raw) if raw else None


def _encode_bytes(value: Any) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise _Invalid(f"expected bytes, got {type(value).__name__}")
    return bytes(value)


_PRESENCE_CODES = {
    ev.PresenceState.JOINED: 1,
    ev.PresenceState.LEFT: 2,
    ev.PresenceState.DEACTIVATED: 3,
    ev.PresenceState.REJOINED: 4,
}
_PRESENCE_BY_CODE = {code: state for state, code in _PRESENCE_CODES.items()}
_PARTICIPANT_CODES = {ev.ParticipantState.ACTIVE: 1, ev.ParticipantState.DEACTIVATED: 2}
_PARTICIPANT_BY_CODE = {code: state for state, code in _PARTICIPANT_CODES.items()}


def _encode_participants(value: Any) -> bytes:
    out = bytearray()
    for participant in value:
        _check_name(participant.name)
        name = participant.name.encode("utf-8")
        try:
            state = _PARTICIPANT_CODES[participant.state]
        except KeyError:
            raise _Invalid(f"invalid participant state {participant.state!r}") from None
        out += bytes((state, len(name))) + name
    return bytes(out)


def _decode_participants(raw: bytes) -> tuple[ev.Participant, ...]:
    participants = []
    pos = 0
    while pos < len(raw):
        if pos + 2 > len(raw):
            raise _Invalid("participant entry is truncated", ErrorCode.MALFORMED)
        code, length = raw[pos], raw[pos + 1]
        name_bytes = raw[pos + 2 : pos + 2 + length]
        if len(name_bytes) != length:
            raise _Invalid("participant entry is truncated", ErrorCode.MALFORMED)
        state = _PARTICIPANT_BY_CODE.get(code)
        if state is None:
            raise _Invalid(f"invalid participant state {code}")
        name = _utf8(name_bytes)
        _check_name(name)
        participants.append(ev.Participant(name, state))
        pos += 2 + length
    return tuple(participants)


U8 = Kind("u8", "B")
U16 = Kind("u16", "H")
U32 = Kind("u32", "I")
U64 = Kind("u64", "Q")
BOOL = Kind("bool", "B")
SHA256 = Kind("sha256", "32s")
PRESENCE = Kind("presence", "B")
NAME = Kind("name", "B", True, MAX_USERNAME_BYTES, _encode_str, _utf8, _check_name)
#: The name in a Login is only length-checked: judging it is the server's
#: job, so that a bad name gets ``LoginRejected(invalid-name)``, not a
#: broken connection.
LOGIN_NAME = Kind("login-name", "B", True, MAX_USERNAME_BYTES, _encode_str, _utf8)
OPTIONAL_NAME = Kind(
    "optional-name", "B", True, MAX_USERNAME_BYTES, _encode_optional, _decode_optional,
    _check_optional_name,
)
TOKEN = Kind("token", "B", True, MAX_TOKEN_BYTES, _encode_str, _utf8, _check_token)
SOFTWARE = Kind("software", "B", True, MAX_SOFTWARE_BYTES, _encode_str, _utf8)
MESSAGE = Kind("message", "H", True, MAX_MESSAGE_BYTES, _encode_str, _utf8)
PASSWORD = Kind("password", "H", True, MAX_PASSWORD_BYTES, _encode_str, _utf8, _check_password)
FILENAME = Kind("filename", "H", True, MAX_FILENAME_BYTES, _encode_str, _utf8, _check_filename)
TEXT = Kind("text", "I", True, MAX_TEXT_BYTES, _encode_str, _utf8)
PARTICIPANTS = Kind(
    "participants", "I", True, MAX_PARTICIPANTS * (2 + MAX_USERNAME_BYTES),
    _encode_participants, _decode_participants,
)
#: Raw bytes filling the rest of the payload; bounded by the frame size.
DATA = Kind("data", "", True, 0, _encode_bytes, bytes)

_STRUCT_RANGES = {"B": 0xFF, "H": 0xFFFF, "I": 0xFFFF_FFFF, "Q": 0xFFFF_FFFF_FFFF_FFFF}


class Layout:
    """Encoder and decoder of one message type, compiled from its field list."""

    def __init__(
        self, type_code: int, event_class: type[ev.Event], fields: Sequence[tuple[str, Kind]]
    ) -> None:
        self.type_code = type_code
        self.event_class = event_class
        self.fields = tuple(fields)
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
            pass
        # The fast path refuses anything unusual (str subclasses such as
        # StrEnum members, bytearrays); the reference codec has the last word.
        try:
            return self._encode(event, max_text_bytes)
        except _Invalid as exc:
            raise LocalProtocolError(
                f"cannot send {type(event).__name__}: {exc}", exc.code
            ) from None
        except (struct.error, AttributeError, TypeError, ValueError) as exc:
            raise LocalProtocolError(f"cannot send {type(event).__name__}: {exc}") from None

    def _encode(self, event: ev.Event, max_text_bytes: int) -> bytes:
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
            pass
        # The fast path refuses anything it does not expect; the reference
        # decoder has the last word, and says precisely what is wrong.
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
        return self.event_class(*values)


LAYOUTS: tuple[Layout, ...] = (
    Layout(0x01, ev.Hello, [("version", U16), ("max_frame_size", U32), ("software", SOFTWARE)]),
    Layout(
        0x02, ev.Login, [("last_seen_seq", U64), ("username", LOGIN_NAME), ("password", PASSWORD)]
    ),
    Layout(
        0x03,
        ev.LoginAccepted,
        [
            ("new_account", BOOL),
            ("rejoined", BOOL),
            ("last_seq", U64),
            ("username", NAME),
            ("participants", PARTICIPANTS),
        ],
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
    ),
    Layout(0x26, ev.FetchFile, [("file_id", U64), ("offset", U64)]),
    Layout(0x27, ev.FetchRejected, [("file_id", U64), ("reason", TOKEN), ("message", MESSAGE)]),
)

LAYOUT_BY_CODE: dict[int, Layout] = {layout.type_code: layout for layout in LAYOUTS}
LAYOUT_BY_CLASS: dict[type[ev.Event], Layout] = {layout.event_class: layout for layout in LAYOUTS}


def encode_event(event: ev.Event, max_text_bytes: int = MAX_TEXT_BYTES) -> bytes:
    """The frame for ``event``, with no connection state involved."""
    layout = LAYOUT_BY_CLASS.get(type(event))
    if layout is None:
        raise LocalProtocolError(f"{type(event).__name__} is not sent on the wire")
    return layout.encode(event, max_text_bytes)


__all__ = ["HEADER", "HEADER_SIZE", "LAYOUTS", "Layout", "encode_event"]
