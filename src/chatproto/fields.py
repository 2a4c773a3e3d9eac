"""Field kinds: how each field of a message is carried, checked and converted.

A fixed kind is a ``struct`` code; a variable kind has a length prefix, a
maximum length, and functions between value and bytes. ``wire.LAYOUTS``
builds every message from these kinds; both codecs (``_reference_codec.py``,
``_generated_codec.py``) call the same checks and conversions, which raise
``FieldError`` and nothing else for a bad value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import attrs

from . import events as ev
from .errors import ErrorCode
from .limits import (
    MAX_FILENAME_BYTES,
    MAX_MESSAGE_BYTES,
    MAX_PARTICIPANTS,
    MAX_PASSWORD_BYTES,
    MAX_QUERY_BYTES,
    MAX_RECIPIENT_BYTES,
    MAX_ROOMS_PER_PAGE,
    MAX_SOFTWARE_BYTES,
    MAX_TEXT_BYTES,
    MAX_TOKEN_BYTES,
    MAX_USERNAME_BYTES,
    RESUME_TOKEN_BYTES,
    ROOM_PREFIX,
    is_valid_token,
    username_problem,
)
from .targets import is_general


class FieldError(Exception):
    """A field or value failed validation, with the ``ErrorCode`` to report.

    The reference codec turns it into ``LocalProtocolError`` (encoding) or
    ``RemoteProtocolError`` (decoding); from a generated function it is one of
    the signals that send ``_codec.py`` to the reference codec."""

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
        raise FieldError("a text field is not valid UTF-8", ErrorCode.BAD_UTF8) from None


def _check_name(value: Any) -> None:
    if not isinstance(value, str):
        raise FieldError("a user name must be a str")
    problem = username_problem(value)
    if problem is not None:
        raise FieldError(f"invalid user name {value!r}: {problem}")


#: Validated user names, both ways. Names repeat constantly on a chat server
#: (every message has a sender, every login the participant list), and
#: validation (``names.py``) is the costly part. Bounded: a peer sending new
#: names only ever empties the caches.
_NAME_CACHE_SIZE = 8192
_names_by_bytes: dict[bytes, str] = {}
_bytes_by_name: dict[str, bytes] = {}


def name_from_bytes(raw: bytes) -> str:
    """The valid user name ``raw`` encodes; raises ``FieldError``."""
    name = _names_by_bytes.get(raw)
    if name is None:
        name = _utf8(raw)
        _check_name(name)
        if len(_names_by_bytes) >= _NAME_CACHE_SIZE:
            _names_by_bytes.clear()
        _names_by_bytes[raw] = name
    return name


def name_to_bytes(name: Any) -> bytes:
    """The UTF-8 of the valid user name ``name``; raises ``FieldError``."""
    raw = _bytes_by_name.get(name) if type(name) is str else None
    if raw is None:
        _check_name(name)
        raw = name.encode("utf-8")
        if len(_bytes_by_name) >= _NAME_CACHE_SIZE:
            _bytes_by_name.clear()
        _bytes_by_name[name] = raw
    return raw


#: Validated recipients (``targets.py``), both ways; bounded as the names are.
_targets_by_bytes: dict[bytes, str] = {}
_bytes_by_target: dict[str, bytes] = {}


def _check_room_name(room: str) -> None:
    if is_general(room):
        # One spelling for general: no recipient at all (targets.py).
        raise FieldError(f"the room {room!r} is general, which is written as no recipient")


def target_from_bytes(raw: bytes) -> str:
    """The valid non-empty recipient ``raw`` encodes: a user name or ``#room``."""
    target = _targets_by_bytes.get(raw)
    if target is None:
        if raw[:1] == b"#":
            room = name_from_bytes(raw[1:])
            _check_room_name(room)
            target = ROOM_PREFIX + room
        else:
            target = name_from_bytes(raw)
        if len(_targets_by_bytes) >= _NAME_CACHE_SIZE:
            _targets_by_bytes.clear()
        _targets_by_bytes[raw] = target
    return target


def target_to_bytes(target: Any) -> bytes:
    """The UTF-8 of the valid non-empty recipient ``target``; raises ``FieldError``."""
    raw = _bytes_by_target.get(target) if type(target) is str else None
    if raw is None:
        if type(target) is str and target.startswith(ROOM_PREFIX):
            room = target[1:]
            raw = b"#" + name_to_bytes(room)
            _check_room_name(room)
        else:
            raw = name_to_bytes(target)
        if len(_bytes_by_target) >= _NAME_CACHE_SIZE:
            _bytes_by_target.clear()
        _bytes_by_target[target] = raw
    return raw


def _check_target(value: Any) -> None:
    if value is not None:
        target_to_bytes(value)


def _decode_target(raw: bytes) -> str | None:
    return target_from_bytes(raw) if raw else None


def _encode_target(value: Any) -> bytes:
    return b"" if value is None else target_to_bytes(value)


def _check_room(value: Any) -> None:
    _check_name(value)
    _check_room_name(value)


def _check_optional_room(value: Any) -> None:
    if value is not None:
        _check_name(value)


def _check_query(value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise FieldError("a search query must be a non-empty str")


def _check_optional_name(value: Any) -> None:
    if value is not None:
        _check_name(value)


def _check_token(value: Any) -> None:
    if not isinstance(value, str) or not is_valid_token(value):
        raise FieldError(f"invalid code {value!r}")


def _check_filename(value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise FieldError("a file name must be a non-empty str")
    if "\x00" in value:
        raise FieldError("a file name must not contain NUL")


def _check_password(value: Any) -> None:
    # Empty is a Login by resume token: ``rules.login`` wants exactly one of the two.
    if not isinstance(value, str):
        raise FieldError("the password must be a str")


def _check_resume_token(value: Any) -> None:
    if type(value) is not bytes or len(value) not in (0, RESUME_TOKEN_BYTES):
        raise FieldError(f"a resume token is empty or {RESUME_TOKEN_BYTES} bytes")


def _encode_str(value: Any) -> bytes:
    if not isinstance(value, str):
        raise FieldError(f"expected str, got {type(value).__name__}")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        raise FieldError("text contains unpaired surrogates", ErrorCode.BAD_UTF8) from None


def _encode_optional(value: Any) -> bytes:
    return b"" if value is None else _encode_str(value)


def _decode_optional(raw: bytes) -> str | None:
    return _utf8(raw) if raw else None


def _encode_bytes(value: Any) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise FieldError(f"expected bytes, got {type(value).__name__}")
    return bytes(value)


PRESENCE_CODES = {
    ev.PresenceState.JOINED: 1,
    ev.PresenceState.LEFT: 2,
    ev.PresenceState.DEACTIVATED: 3,
    ev.PresenceState.REJOINED: 4,
}
PRESENCE_BY_CODE = {code: state for state, code in PRESENCE_CODES.items()}
_PARTICIPANT_CODES = {ev.ParticipantState.ACTIVE: 1, ev.ParticipantState.DEACTIVATED: 2}
_PARTICIPANT_BY_CODE = {code: state for state, code in _PARTICIPANT_CODES.items()}


#: Bytes of one participant entry besides its name: the state, the name's length.
PARTICIPANT_OVERHEAD: Final = 2


def participant_size(participant: ev.Participant) -> int:
    """Bytes that ``participant`` takes in a participant list (docs/protocol.md 3.3)."""
    return PARTICIPANT_OVERHEAD + len(participant.name.encode("utf-8"))


#: Each participant's entry on the wire, per state, by name: a server sends
#: the whole list in every LoginAccepted, the same entries over and over.
_ENTRIES_BY_STATE: dict[ev.ParticipantState, dict[str, bytes]] = {
    state: {} for state in _PARTICIPANT_CODES
}


def _participant_entry(participant: ev.Participant) -> bytes:
    name, state = participant.name, participant.state
    cache = _ENTRIES_BY_STATE.get(state) if type(name) is str else None
    entry = None if cache is None else cache.get(name)
    if entry is None:
        raw = name_to_bytes(name)
        try:
            code = _PARTICIPANT_CODES[state]
        except KeyError:
            raise FieldError(f"invalid participant state {state!r}") from None
        entry = bytes((code, len(raw))) + raw
        if cache is not None:
            if len(cache) >= _NAME_CACHE_SIZE:
                cache.clear()
            cache[name] = entry
    return entry


#: The last list encoded, and its bytes. A server encodes the same list, or
#: the same list with one more at its end, at login after login (users
#: arriving one by one): then only the new entries are encoded. Equal
#: participants have equal entries, and comparing a tuple with the one it
#: was sliced from is a pointer comparison per item.
_last_encoded: tuple[tuple[ev.Participant, ...], bytes] = ((), b"")


def _encode_participants(value: Any) -> bytes:
    global _last_encoded
    try:
        if len(value) > MAX_PARTICIPANTS:
            raise FieldError(f"{len(value)} participants, over the limit of {MAX_PARTICIPANTS}")
        last, data = _last_encoded
        if type(value) is tuple and len(value) >= len(last) and value[: len(last)] == last:
            if len(value) == len(last):
                return data
            data += b"".join([_participant_entry(participant) for participant in value[len(last):]])
        else:
            data = b"".join([_participant_entry(participant) for participant in value])
        if type(value) is tuple:
            _last_encoded = (value, data)
        return data
    except (AttributeError, TypeError) as exc:
        # Not a sequence of Participants. The generated codec calls this too and
        # may only raise FieldError for bad input; the message and the code are
        # the ones the reference codec gives any value of the wrong type.
        raise FieldError(str(exc), ErrorCode.MALFORMED) from None


#: Participants by their entry on the wire: a client is sent the whole list
#: at every login, the same entries over and over. They are frozen, so one
#: object may stand for every copy.
_PARTICIPANTS_BY_ENTRY: dict[bytes, ev.Participant] = {}


def _decode_participants(raw: bytes) -> tuple[ev.Participant, ...]:
    participants = []
    known = _PARTICIPANTS_BY_ENTRY
    pos, size = 0, len(raw)
    while pos < size:
        if pos + 2 > size:
            raise FieldError("participant entry is truncated", ErrorCode.MALFORMED)
        end = pos + 2 + raw[pos + 1]
        if end > size:
            raise FieldError("participant entry is truncated", ErrorCode.MALFORMED)
        entry = raw[pos:end]
        participant = known.get(entry)
        if participant is None:
            state = _PARTICIPANT_BY_CODE.get(entry[0])
            if state is None:
                raise FieldError(f"invalid participant state {entry[0]}")
            participant = ev.Participant(name_from_bytes(entry[2:]), state)
            if len(known) >= _NAME_CACHE_SIZE:
                known.clear()
            known[entry] = participant
        participants.append(participant)
        pos = end
    if len(participants) > MAX_PARTICIPANTS:
        raise FieldError(f"{len(participants)} participants, over the limit of {MAX_PARTICIPANTS}")
    return tuple(participants)


#: Bytes of one room entry besides its name: flags, member count, name length.
ROOM_ENTRY_OVERHEAD: Final = 6
_ROOM_PRIVATE, _ROOM_MEMBER = 1, 2


def room_entry_size(room: ev.RoomInfo) -> int:
    """Bytes that ``room`` takes in a room list (docs/protocol.md 3.5)."""
    return ROOM_ENTRY_OVERHEAD + len(room.name.encode("utf-8"))


def _encode_rooms(value: Any) -> bytes:
    try:
        if len(value) > MAX_ROOMS_PER_PAGE:
            raise FieldError(f"{len(value)} rooms, over the limit of {MAX_ROOMS_PER_PAGE}")
        out = bytearray()
        for room in value:
            if type(room.private) is not bool or type(room.member) is not bool:
                raise FieldError("a room's private and member flags must be bools")
            count = room.member_count
            if type(count) is not int or not 0 <= count <= 0xFFFF_FFFF:
                raise FieldError(f"member count {count!r} is not a u32")
            name = name_to_bytes(room.name)
            flags = (_ROOM_PRIVATE if room.private else 0) | (_ROOM_MEMBER if room.member else 0)
            out += bytes((flags,)) + count.to_bytes(4, "big") + bytes((len(name),)) + name
    except (AttributeError, TypeError) as exc:
        raise FieldError(str(exc), ErrorCode.MALFORMED) from None
    return bytes(out)


def _decode_rooms(raw: bytes) -> tuple[ev.RoomInfo, ...]:
    rooms = []
    pos = 0
    while pos < len(raw):
        if pos + ROOM_ENTRY_OVERHEAD > len(raw):
            raise FieldError("room entry is truncated", ErrorCode.MALFORMED)
        flags = raw[pos]
        count = int.from_bytes(raw[pos + 1 : pos + 5], "big")
        length = raw[pos + 5]
        name_bytes = raw[pos + 6 : pos + 6 + length]
        if len(name_bytes) != length:
            raise FieldError("room entry is truncated", ErrorCode.MALFORMED)
        if flags & ~(_ROOM_PRIVATE | _ROOM_MEMBER):
            raise FieldError(f"unknown room flags {flags:#04x}")
        name = name_from_bytes(name_bytes)
        rooms.append(
            ev.RoomInfo(name, count, bool(flags & _ROOM_PRIVATE), bool(flags & _ROOM_MEMBER))
        )
        pos += ROOM_ENTRY_OVERHEAD + length
    if len(rooms) > MAX_ROOMS_PER_PAGE:
        raise FieldError(f"{len(rooms)} rooms, over the limit of {MAX_ROOMS_PER_PAGE}")
    return tuple(rooms)


MEMBERSHIP_CODES = {ev.MembershipState.JOINED: 1, ev.MembershipState.LEFT: 2}
MEMBERSHIP_BY_CODE = {code: state for state, code in MEMBERSHIP_CODES.items()}


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
    "participants", "I", True, MAX_PARTICIPANTS * (PARTICIPANT_OVERHEAD + MAX_USERNAME_BYTES),
    _encode_participants, _decode_participants,
)
#: Empty (none) or ``RESUME_TOKEN_BYTES`` random bytes; length-prefixed so a
#: password Login and a LoginAccepted without a token pay one byte for it.
RESUME_TOKEN = Kind(
    "resume-token", "B", True, RESUME_TOKEN_BYTES, _encode_bytes, bytes, _check_resume_token
)
#: Where a message goes (``targets.py``): none for ``general``, a user name,
#: or ``#`` and a room name.
TARGET = Kind(
    "recipient", "B", True, MAX_RECIPIENT_BYTES, _encode_target, _decode_target, _check_target
)
#: A room name: a user name by every rule (3.2), and never ``general``'s
#: skeleton where a room other than general is meant.
ROOM = Kind("room", "B", True, MAX_USERNAME_BYTES, _encode_str, _utf8, _check_room)
#: A room name that may be ``general``, or none (a search over every room).
OPTIONAL_ROOM = Kind(
    "optional-room", "B", True, MAX_USERNAME_BYTES, _encode_optional, _decode_optional,
    _check_optional_room,
)
MEMBERSHIP = Kind("membership", "B")
#: The one-byte state codes: kind -> (the enum, code by member, member by code).
ENUM_KINDS: dict[Kind, tuple[type, dict[Any, int], dict[int, Any]]] = {
    PRESENCE: (ev.PresenceState, PRESENCE_CODES, PRESENCE_BY_CODE),
    MEMBERSHIP: (ev.MembershipState, MEMBERSHIP_CODES, MEMBERSHIP_BY_CODE),
}
QUERY = Kind("query", "H", True, MAX_QUERY_BYTES, _encode_str, _utf8, _check_query)
ROOMS = Kind(
    "rooms", "I", True, MAX_ROOMS_PER_PAGE * (ROOM_ENTRY_OVERHEAD + MAX_USERNAME_BYTES),
    _encode_rooms, _decode_rooms,
)
#: Raw bytes filling the rest of the payload; bounded by the frame size.
DATA = Kind("data", "", True, 0, _encode_bytes, bytes)

#: The largest value of each unsigned ``struct`` code.
MAX_UNSIGNED = {"B": 0xFF, "H": 0xFFFF, "I": 0xFFFF_FFFF, "Q": 0xFFFF_FFFF_FFFF_FFFF}
