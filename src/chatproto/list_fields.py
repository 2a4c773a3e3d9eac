"""The two list fields: a participant list (docs/protocol.md 3.3) and a room
list (3.5), their entries' sizes, and their ``Kind``s.

A server sends the whole participant list in every ``LoginAccepted``, the
same entries over and over: the encoder keeps each entry's bytes and the
last list it encoded, and the decoder one frozen ``Participant`` per entry.
"""

from __future__ import annotations

from typing import Any, Final

from . import events as ev
from .errors import ErrorCode
from .fields import NAME_CACHE_SIZE, FieldError, Kind, name_from_bytes, name_to_bytes
from .limits import MAX_PARTICIPANTS, MAX_ROOMS_PER_PAGE, MAX_USERNAME_BYTES

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
            if len(cache) >= NAME_CACHE_SIZE:
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
        if type(value) is not tuple:  # a list: not kept (it could change in place)
            return b"".join([_participant_entry(participant) for participant in value])
        last, data = _last_encoded
        if len(value) >= len(last) and value[: len(last)] == last:
            if len(value) == len(last):
                return data
            data += b"".join([_participant_entry(participant) for participant in value[len(last):]])
        else:
            data = b"".join([_participant_entry(participant) for participant in value])
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
            if len(known) >= NAME_CACHE_SIZE:
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


PARTICIPANTS = Kind(
    "participants", "I", True, MAX_PARTICIPANTS * (PARTICIPANT_OVERHEAD + MAX_USERNAME_BYTES),
    _encode_participants, _decode_participants,
)
ROOMS = Kind(
    "rooms", "I", True, MAX_ROOMS_PER_PAGE * (ROOM_ENTRY_OVERHEAD + MAX_USERNAME_BYTES),
    _encode_rooms, _decode_rooms,
)
