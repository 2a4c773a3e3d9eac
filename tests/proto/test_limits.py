"""Every field at its limit passes, one byte more is refused, and the per-type frame
limits computed from the layout table match what the largest valid events need."""

from __future__ import annotations

from typing import Any

import pytest

from chatproto import ErrorCode, LocalProtocolError, RemoteProtocolError, encode_event, wire
from chatproto import events as ev
from chatproto._codec import decode_payload
from chatproto.buffer import ReceiveBuffer
from chatproto.limits import (
    DEFAULT_MAX_FRAME_SIZE,
    HEADER_SIZE,
    MAX_FILE_SIZE,
    MAX_SEARCH_LIMIT,
    MAX_USERNAME_BYTES,
    MAX_USERNAME_CHARS,
    RESUME_TOKEN_BYTES,
)

from .support import decode_frame

LONGEST_NAME = "\U00020000" * MAX_USERNAME_CHARS  # a CJK letter of 4 UTF-8 bytes, 32 times
assert len(LONGEST_NAME.encode()) == MAX_USERNAME_BYTES


def _largest(kind: wire.Kind, extra: int = 0) -> Any:
    """The largest valid value of ``kind`` (``extra`` bytes more, to break the limit)."""
    if kind in (wire.NAME, wire.OPTIONAL_NAME, wire.ROOM, wire.OPTIONAL_ROOM):
        return LONGEST_NAME + "a" * extra
    if kind is wire.TARGET:
        return "#" + LONGEST_NAME + "a" * extra
    if kind is wire.ROOMS:
        return (ev.RoomInfo(LONGEST_NAME, 2**32 - 1, True, True),)
    if kind is wire.MEMBERSHIP:
        return ev.MembershipState.LEFT
    if kind is wire.TOKEN:
        return "a" * (kind.max_bytes + extra)
    if kind is wire.PARTICIPANTS:
        return (ev.Participant(LONGEST_NAME),)
    if kind is wire.DATA:
        return bytes(1000)
    if kind is wire.BOOL:
        return True
    if kind is wire.PRESENCE:
        return ev.PresenceState.REJOINED
    if kind is wire.SHA256:
        return b"\xff" * 32
    if kind is wire.RESUME_TOKEN:
        return b"\xff" * (kind.max_bytes + extra)
    if not kind.variable:
        return 2 ** (8 * wire.struct.calcsize("!" + kind.struct_code)) - 1
    # Text kinds: fill with a 3-byte character, topped up with ASCII, to the byte.
    three, rest = divmod(kind.max_bytes + extra, 3)
    return "가" * three + "a" * rest


#: Integer fields whose valid range the protocol narrows below their wire type (rules.py).
_NARROWED = {"size": MAX_FILE_SIZE, "limit": MAX_SEARCH_LIMIT}


def largest_event(
    layout: wire.Layout, grow: str | None = None, field: str | None = None
) -> ev.Event:
    """Every field at its limit (``grow`` one byte over it). A Login carries a password or
    a resume token, not both (rules.login): the password, unless ``field`` (or ``grow``)
    is the token."""
    values = {name: _largest(kind, 1 if name == grow else 0) for name, kind in layout.fields}
    values.update((name, top) for name, top in _NARROWED.items() if name in values)
    if layout.event_class is ev.Login:
        if "resume_token" in (grow, field):
            values["password"] = ""
        else:
            values["resume_token"] = b""
    return layout.event_class(**values)


def _largest_valid_payload(layout: wire.Layout) -> int:
    """The type's limit, the sum of its fields' limits; a Login cannot fill both its
    password and its resume token, so its largest valid payload is a token short of it."""
    if layout.event_class is ev.Login:
        return layout.max_payload - RESUME_TOKEN_BYTES
    return layout.max_payload


#: Participant and room lists are bounded by the frame limit alone, as FileChunk's data is.
_PAGED = (ev.LoginAccepted, ev.ParticipantList, ev.RoomList)
BOUNDED = [lay for lay in wire.LAYOUTS if lay.event_class not in _PAGED]


@pytest.mark.parametrize("layout", BOUNDED, ids=lambda lay: lay.event_class.__name__)
def test_the_largest_event_is_exactly_the_type_limit_and_passes(layout: wire.Layout) -> None:
    event = largest_event(layout)
    frame = encode_event(event)
    if not layout.ends_with_data:
        assert len(frame) - HEADER_SIZE == _largest_valid_payload(layout)
    buffer = ReceiveBuffer(DEFAULT_MAX_FRAME_SIZE, max_buffered=len(frame))
    buffer.feed(frame)
    assert buffer.next_frame() is not None  # the header check lets it through
    assert decode_frame(frame) == event


VARIABLE_FIELDS = [
    (lay, name)
    for lay in BOUNDED
    for name, kind in lay.variable
    if kind not in (wire.PARTICIPANTS, wire.ROOMS)
]


@pytest.mark.parametrize(
    ("layout", "field"),
    VARIABLE_FIELDS,
    ids=[f"{lay.event_class.__name__}.{name}" for lay, name in VARIABLE_FIELDS],
)
def test_one_byte_over_a_field_limit_is_refused_both_ways(layout: wire.Layout, field: str) -> None:
    with pytest.raises(LocalProtocolError):
        encode_event(largest_event(layout, grow=field))
    # Forge the same frame by hand: the receiver refuses it.
    good = largest_event(layout, field=field)
    index = [name for name, _ in layout.variable].index(field)
    raw = [_raw(getattr(good, name), kind) for name, kind in layout.variable]
    raw[index] += b"a"
    fixed = [_fixed(getattr(good, name), kind) for name, kind in layout.fixed]
    payload = layout.struct.pack(*fixed, *map(len, raw)) + b"".join(raw)
    with pytest.raises(RemoteProtocolError) as info:
        decode_payload(layout, payload)
    assert info.value.code in (ErrorCode.INVALID_FIELD, ErrorCode.MALFORMED)


def _raw(value: Any, kind: wire.Kind) -> bytes:
    assert kind.to_bytes is not None
    return kind.to_bytes(value)


def _fixed(value: Any, kind: wire.Kind) -> Any:
    if kind is wire.BOOL:
        return int(value)
    if kind is wire.PRESENCE:
        return 4
    if kind is wire.MEMBERSHIP:
        return 2
    return value


def test_an_over_long_participant_entry_is_refused() -> None:
    layout = wire.LAYOUT_BY_CLASS[ev.LoginAccepted]
    name = "a" * 33
    entries = bytes((1, len(name))) + name.encode()
    # new_account, rejoined, history_reset, last_seq, epoch, participant_count, lengths
    payload = layout.struct.pack(0, 0, 0, 0, 0, 1, 3, 0, len(entries)) + b"bob" + entries
    with pytest.raises(RemoteProtocolError) as info:
        decode_payload(layout, payload)
    assert info.value.code == ErrorCode.INVALID_FIELD


# -- the error codes the document promises ----------------------------------------------

_CHAT = encode_event(ev.SendChat("hi"))[HEADER_SIZE:]
_ACCEPTED = encode_event(ev.LoginAccepted("bob", False, False, 0))[HEADER_SIZE:]
_PRESENCE = encode_event(ev.Presence("bob", ev.PresenceState.JOINED, 1))[HEADER_SIZE:]


@pytest.mark.parametrize(
    ("event_class", "payload", "code"),
    [
        (ev.SendChat, _CHAT[:-2] + b"\xed\xa0", ErrorCode.BAD_UTF8),  # an encoded surrogate
        (ev.SendChat, _CHAT[:-1] + b"\xc3", ErrorCode.BAD_UTF8),  # a cut character
        (ev.SendChat, _CHAT + b"!", ErrorCode.MALFORMED),  # bytes after the last field
        (ev.SendChat, _CHAT[:5], ErrorCode.MALFORMED),  # shorter than the fixed part
        (ev.SendChat, _CHAT[:-1], ErrorCode.MALFORMED),  # text runs past the end
        (ev.LoginAccepted, b"\x02" + _ACCEPTED[1:], ErrorCode.INVALID_FIELD),  # bool 2
        (ev.Presence, b"\x09" + _PRESENCE[1:], ErrorCode.INVALID_FIELD),  # presence code 9
        (ev.LoginAccepted, _ACCEPTED[:11] + b"\x00\x00\x00\x01" + _ACCEPTED[15:] + b"\x01",
         ErrorCode.MALFORMED),  # a participant entry cut after its state byte
    ],
    ids=["surrogate", "cut-char", "extra", "short", "past-end", "bool", "presence", "entry"],
)
def test_decode_errors_carry_the_documented_code(event_class: type[ev.Event], payload: bytes,
                                                 code: ErrorCode) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        decode_payload(wire.LAYOUT_BY_CLASS[event_class], payload)
    assert info.value.code == code
