"""A client's open room requests and searches, sans-IO (version 4).

Theory of operation. Each request the client sends (``CreateRoom``,
``JoinRoom``, ``LeaveRoom``, ``InviteToRoom``, ``ListRooms``,
``SearchHistory``) is built here under a fresh ``request_id`` and stays open
until the server's final answer to it (docs/protocol.md 7.10, 7.11).
Answers are gathered per request, so a caller gets one outcome for the whole
answer, never a page or a hit at a time:

- ``RequestDone`` ends a change: ``RequestSucceeded``.
- ``RequestRejected`` ends any request: ``RequestFailed`` with the reason.
- ``RoomList`` pages are joined until the one with ``more`` false:
  ``RoomsListed`` with every room.
- ``SearchHit`` frames are kept until the ``SearchDone``: ``SearchFinished``
  with the ``SearchPage``.

Ids start at a random point (a fresh session must not look like an earlier
one in a server's log) and are never reused while open. ``MAX_OPEN_REQUESTS``
may be open at once: the protocol's own bound, which an adapter must wait on
before it builds the next (``has_room``); building one more is a caller bug
(``RuntimeError``). A request stays open after its caller stopped waiting,
until its answer arrives: the connection counts it until then, so its slot
is not free before (``forget`` is only for a request that was never sent).

The ``ClientConnection`` already refuses an answer to nothing or of the
wrong kind, so ``receive`` only routes what it is given; an answer for an id
this object does not know gives no outcome.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator

import attrs

from .events import (
    CreateRoom,
    Event,
    InviteToRoom,
    JoinRoom,
    LeaveRoom,
    ListRooms,
    RequestDone,
    RequestRejected,
    RoomInfo,
    RoomList,
    SearchDone,
    SearchHistory,
    SearchHit,
)
from .limits import MAX_OPEN_REQUESTS, MAX_SEARCH_LIMIT

_ID_SPACE = 2**64


def _next_before_seq(page: SearchPage) -> int:
    return page.hits[-1].seq if page.hits else 0


@attrs.frozen
class SearchPage:
    """One page of search results, newest first. ``more``: older matches
    exist; ask for them with ``before_seq=next_before_seq`` (the last hit's
    seq, 0 when there is no hit)."""

    hits: tuple[SearchHit, ...]
    more: bool
    next_before_seq: int = attrs.field(
        default=attrs.Factory(_next_before_seq, takes_self=True)
    )


# -- outcomes ------------------------------------------------------------------


@attrs.frozen
class RequestSucceeded:
    """The create, join, leave or invite ``request_id`` was done."""

    request_id: int


@attrs.frozen
class RequestFailed:
    """The server refused request ``request_id``."""

    request_id: int
    reason: str
    detail: str = ""

    def describe(self) -> str:
        """``reason (detail)``, or the bare reason without a detail."""
        return f"{self.reason} ({self.detail})" if self.detail else self.reason


@attrs.frozen
class RoomsListed:
    """Every page of the answer to the ``ListRooms`` ``request_id``."""

    request_id: int
    rooms: tuple[RoomInfo, ...]


@attrs.frozen
class SearchFinished:
    """The whole answer to the ``SearchHistory`` ``request_id``."""

    request_id: int
    page: SearchPage


RequestOutcome = RequestSucceeded | RequestFailed | RoomsListed | SearchFinished

RequestEvent = CreateRoom | JoinRoom | LeaveRoom | InviteToRoom | ListRooms | SearchHistory

_NOTHING: tuple[RequestOutcome, ...] = ()


class ClientRequests:
    """The open requests of one connection (see the module)."""

    def __init__(self, *, first_request_id: int | None = None) -> None:
        start = secrets.randbelow(2**31) + 1 if first_request_id is None else first_request_id
        self._ids: Iterator[int] = itertools.count(start)
        self._open: dict[int, RequestEvent] = {}
        # What arrived so far for an open list or search.
        self._rooms: dict[int, list[RoomInfo]] = {}
        self._hits: dict[int, list[SearchHit]] = {}

    @property
    def open_request_ids(self) -> frozenset[int]:
        return frozenset(self._open)

    @property
    def has_room(self) -> bool:
        """Whether one more request may be opened now."""
        return len(self._open) < MAX_OPEN_REQUESTS

    # -- building requests -----------------------------------------------------

    def create_room(self, room: str, private: bool = False) -> CreateRoom:
        request = CreateRoom(self._fresh_id(), room, private)
        self._open[request.request_id] = request
        return request

    def join_room(self, room: str) -> JoinRoom:
        request = JoinRoom(self._fresh_id(), room)
        self._open[request.request_id] = request
        return request

    def leave_room(self, room: str) -> LeaveRoom:
        request = LeaveRoom(self._fresh_id(), room)
        self._open[request.request_id] = request
        return request

    def invite(self, room: str, user: str) -> InviteToRoom:
        request = InviteToRoom(self._fresh_id(), room, user)
        self._open[request.request_id] = request
        return request

    def list_rooms(self) -> ListRooms:
        request = ListRooms(self._fresh_id())
        self._open[request.request_id] = request
        self._rooms[request.request_id] = []
        return request

    def search(
        self,
        query: str,
        limit: int,
        before_seq: int = 0,
        room: str | None = None,
        sender: str | None = None,
    ) -> SearchHistory:
        """A ``SearchHistory``; ``limit`` 1..``MAX_SEARCH_LIMIT`` (``ValueError``
        otherwise: the protocol has no way to ask for more in one request)."""
        if not 1 <= limit <= MAX_SEARCH_LIMIT:
            raise ValueError(f"a search asks for 1 to {MAX_SEARCH_LIMIT} results, not {limit}")
        if before_seq < 0:
            raise ValueError(f"before_seq must be 0 or a seq, not {before_seq}")
        request = SearchHistory(self._fresh_id(), query, limit, before_seq, room, sender)
        self._open[request.request_id] = request
        self._hits[request.request_id] = []
        return request

    def forget(self, request_id: int) -> None:
        """Drop a request that was never sent (the encoder refused it)."""
        self._close(request_id)

    def _fresh_id(self) -> int:
        if not self.has_room:
            raise RuntimeError(
                f"{MAX_OPEN_REQUESTS} requests are open: wait for an answer before the next"
            )
        while True:
            candidate = next(self._ids) % _ID_SPACE
            if candidate not in self._open:
                return candidate

    def _close(self, request_id: int) -> RequestEvent | None:
        self._rooms.pop(request_id, None)
        self._hits.pop(request_id, None)
        return self._open.pop(request_id, None)

    # -- the server's answers --------------------------------------------------

    def receive(self, event: Event) -> tuple[RequestOutcome, ...]:
        """What an answer means: an outcome once a request is over, else nothing."""
        if isinstance(event, RequestDone):
            if self._close(event.request_id) is None:
                return _NOTHING
            return (RequestSucceeded(event.request_id),)
        if isinstance(event, RequestRejected):
            if self._close(event.request_id) is None:
                return _NOTHING
            return (RequestFailed(event.request_id, event.reason, event.message),)
        if isinstance(event, RoomList):
            rooms = self._rooms.get(event.request_id)
            if rooms is None:
                return _NOTHING
            rooms.extend(event.rooms)
            if event.more:
                return _NOTHING
            self._close(event.request_id)
            return (RoomsListed(event.request_id, tuple(rooms)),)
        if isinstance(event, SearchHit):
            hits = self._hits.get(event.request_id)
            if hits is not None:
                hits.append(event)
            return _NOTHING
        if isinstance(event, SearchDone):
            hits = self._hits.get(event.request_id)
            if hits is None:
                return _NOTHING
            self._close(event.request_id)
            return (SearchFinished(event.request_id, SearchPage(tuple(hits), event.more)),)
        return _NOTHING


__all__ = [
    "ClientRequests",
    "RequestEvent",
    "RequestFailed",
    "RequestOutcome",
    "RequestSucceeded",
    "RoomsListed",
    "SearchFinished",
    "SearchPage",
]
