"""The open room requests and searches of a conversation (version 4).

A request is open from the client's ``CreateRoom``, ``JoinRoom``,
``LeaveRoom``, ``InviteToRoom``, ``ListRooms`` or ``SearchHistory`` until
the server's answer ends it (docs/protocol.md 7.10, 7.11): ``RequestDone``
or ``RequestRejected`` for a change, the last ``RoomList`` page (``more``
false) or a ``RequestRejected`` for a list, a ``SearchDone`` or a
``RequestRejected`` for a search, after at most ``limit`` ``SearchHit``
frames. Both peers track them, so an answer to nothing, an answer of the
wrong kind or one hit too many is caught where it arrives.

The same module holds the version rule of rooms: every message of this
family, and a ``#room`` recipient in a chat or a file, needs an agreed
version of at least ``ROOMS_VERSION``.
"""

from __future__ import annotations

from typing import Any

from . import events as ev
from .limits import MAX_OPEN_REQUESTS, ROOMS_VERSION
from .targets import is_room_target
from .transfer_state import TransferChecks, Violation, _NoEntries

#: What a request is waiting for: a verdict, room list pages, or search hits.
CHANGE, LISTING_ROOMS = -1, -2  # a search waits for hits: its value is how many may still come


#: The read-only empty table every connection without requests shares.
_NO_REQUESTS: dict[int, int] = _NoEntries()


class RequestChecks(TransferChecks):
    """The request rules of ``ConversationState``, on top of the transfer rules
    (one chain of bases: slotted classes cannot share a subclass otherwise)."""

    __slots__ = ("_requests",)
    version: int
    _requests: dict[int, int]  # request id -> CHANGE, LISTING_ROOMS or hits still allowed

    def _needs_rooms(self, event: ev.Event) -> None:
        if self.version < ROOMS_VERSION:
            raise Violation(
                f"{type(event).__name__} needs protocol version {ROOMS_VERSION}; "
                f"version {self.version} was agreed"
            )

    def _room_recipient(self, role: object, event: Any) -> None:
        if self.version < ROOMS_VERSION and is_room_target(event.recipient):
            raise Violation(
                f"a room recipient needs protocol version {ROOMS_VERSION}; "
                f"version {self.version} was agreed"
            )

    def _request(self, role: object, event: Any) -> None:
        self._needs_rooms(event)
        if event.request_id in self._requests:
            raise Violation(f"request {event.request_id} is already open")
        if len(self._requests) >= MAX_OPEN_REQUESTS:
            raise Violation(f"more than {MAX_OPEN_REQUESTS} requests open at once")
        if not self._requests:
            self._requests = {}
        if isinstance(event, ev.SearchHistory):
            self._requests[event.request_id] = event.limit
        elif isinstance(event, ev.ListRooms):
            self._requests[event.request_id] = LISTING_ROOMS
        else:
            self._requests[event.request_id] = CHANGE

    def _open_request(self, event: Any) -> int:
        self._needs_rooms(event)
        waiting = self._requests.get(event.request_id)
        if waiting is None:
            raise Violation(f"no request {event.request_id} is open")
        return waiting

    def _request_done(self, role: object, event: Any) -> None:
        if self._open_request(event) != CHANGE:
            raise Violation(f"request {event.request_id} is not a room change")
        del self._requests[event.request_id]

    def _request_rejected(self, role: object, event: Any) -> None:
        self._open_request(event)
        del self._requests[event.request_id]

    def _room_list(self, role: object, event: Any) -> None:
        if self._open_request(event) != LISTING_ROOMS:
            raise Violation(f"request {event.request_id} is not a room list")
        if not event.more:
            del self._requests[event.request_id]

    def _search_hit(self, role: object, event: Any) -> None:
        allowed = self._open_request(event)
        if allowed < 0:
            raise Violation(f"request {event.request_id} is not a search")
        if allowed == 0:
            raise Violation(
                f"more hits for search {event.request_id} than its limit", "invalid-field"
            )
        self._requests[event.request_id] = allowed - 1

    def _search_done(self, role: object, event: Any) -> None:
        if self._open_request(event) < 0:
            raise Violation(f"request {event.request_id} is not a search")
        del self._requests[event.request_id]

    def _membership(self, role: object, event: Any) -> None:
        self._needs_rooms(event)

    @property
    def open_requests(self) -> int:
        return len(self._requests)


__all__ = ["CHANGE", "LISTING_ROOMS", "RequestChecks", "_NO_REQUESTS"]
