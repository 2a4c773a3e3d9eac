"""The room and search events (version 4): room requests, their answers, memberships.

Field order is wire order (see ``docs/protocol.md``), and validation happens
at encoding and decoding, as for every event in ``events.py``. They live
apart because they are a protocol of their own on top of the chat: each
request carries a ``request_id`` chosen by the client, unique among its open
requests, and the server answers each exactly once: ``RequestDone`` or
``RequestRejected``, ``RoomList`` pages for ``ListRooms``, ``SearchHit``
frames and a ``SearchDone`` for ``SearchHistory``. No event in ``events.py``
refers to one of these, nor these to one of those, so the seam is clean.

``chatproto.events`` re-exports every name here and stays the public path
(``from chatproto.events import SearchHit``); this module is the core's own
business.
"""

from __future__ import annotations

from enum import StrEnum

import attrs

from .event_base import Event
from .targets import room_of


class RequestRejectReason(StrEnum):
    """Reasons for refusing a room request or a search (version 4)."""

    #: No such room, or a private room the user is not a member of (the two
    #: are not told apart, so private rooms stay invisible).
    NOT_FOUND = "not-found"
    #: A room with that name (that skeleton) exists already.
    ALREADY_EXISTS = "already-exists"
    INVALID_NAME = "invalid-name"
    NOT_MEMBER = "not-member"
    ALREADY_MEMBER = "already-member"
    #: Every account is in ``general`` for good.
    CANNOT_LEAVE_GENERAL = "cannot-leave-general"
    #: The user is in as many rooms as the server allows.
    TOO_MANY_ROOMS = "too-many-rooms"
    #: The room has as many members as the server allows.
    ROOM_FULL = "room-full"
    #: The user created as many private rooms as the server allows.
    TOO_MANY_PRIVATE_ROOMS = "too-many-private-rooms"
    UNKNOWN_USER = "unknown-user"
    #: Nothing to search for in the query (only spaces or punctuation).
    BAD_QUERY = "bad-query"
    RATE_LIMITED = "rate-limited"
    SERVER_ERROR = "server-error"


class MembershipState(StrEnum):
    JOINED = "joined"
    LEFT = "left"


@attrs.frozen
class RoomInfo:
    """One room in a ``RoomList``: as the asking user may see it."""

    name: str
    member_count: int
    private: bool = False
    #: The asking user is a member.
    member: bool = False


# -- requests ---------------------------------------------------------------


@attrs.frozen
class CreateRoom(Event):
    """Create ``room``, with the sender as its first member."""

    request_id: int
    room: str
    private: bool = False


@attrs.frozen
class JoinRoom(Event):
    """Become a member of the public room ``room``."""

    request_id: int
    room: str


@attrs.frozen
class LeaveRoom(Event):
    """Stop being a member of ``room`` (never ``general``)."""

    request_id: int
    room: str


@attrs.frozen
class InviteToRoom(Event):
    """Make ``user`` a member of ``room``, of which the sender is a member."""

    request_id: int
    room: str
    user: str


@attrs.frozen
class ListRooms(Event):
    """Ask for the rooms the sender may see: public ones and its own."""

    request_id: int


@attrs.frozen
class SearchHistory(Event):
    """Ask for the newest chat messages matching ``query`` that the sender
    may see, with ``seq`` below ``before_seq`` (0: no bound), at most
    ``limit``; ``room`` and ``sender`` narrow it (None: any)."""

    request_id: int
    query: str
    limit: int
    before_seq: int = 0
    room: str | None = None
    sender: str | None = None


# -- answers ----------------------------------------------------------------


@attrs.frozen
class RequestDone(Event):
    """A ``CreateRoom``, ``JoinRoom``, ``LeaveRoom`` or ``InviteToRoom`` succeeded."""

    request_id: int


@attrs.frozen
class RequestRejected(Event):
    """The server refused a request (``RequestRejectReason``)."""

    request_id: int
    reason: str
    message: str = ""


@attrs.frozen
class RoomList(Event):
    """One page of the answer to ``ListRooms``; the last has ``more`` false."""

    request_id: int
    rooms: tuple[RoomInfo, ...]
    more: bool = False


@attrs.frozen
class SearchHit(Event):
    """One result of a ``SearchHistory``, newest first."""

    request_id: int
    seq: int
    timestamp_ms: int
    sender: str
    recipient: str | None
    text: str

    @property
    def room(self) -> str | None:
        return room_of(self.recipient)


@attrs.frozen
class SearchDone(Event):
    """The end of a search page; ``more``: older results exist (ask again
    with ``before_seq`` = the last hit's seq)."""

    request_id: int
    more: bool


# -- broadcasts -------------------------------------------------------------


@attrs.frozen
class Membership(Event):
    """``user`` joined or left ``room``, which now has ``member_count``
    members; sent to the room's members (the user included)."""

    room: str
    user: str
    state: MembershipState
    member_count: int


__all__ = [
    "CreateRoom",
    "InviteToRoom",
    "JoinRoom",
    "LeaveRoom",
    "ListRooms",
    "Membership",
    "MembershipState",
    "RequestDone",
    "RequestRejectReason",
    "RequestRejected",
    "RoomInfo",
    "RoomList",
    "SearchDone",
    "SearchHistory",
    "SearchHit",
]
