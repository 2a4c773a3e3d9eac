"""Rooms and search on a session (protocol version 4): the requests, awaited.

Each operation waits for one of the ``MAX_OPEN_REQUESTS`` slots (rather than
fail when a program has many in flight), builds its request through the
``ClientRequests`` of the session's ``ClientState``, sends it and waits for
the whole answer: every ``RoomList`` page, every ``SearchHit``. A refusal
is a ``RequestRefused`` with the server's reason; on a server older than
rooms nothing is sent and the reason is ``not-supported``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from .. import events as ev
from ..client_requests import (
    ClientRequests,
    RequestEvent,
    RequestFailed,
    RequestOutcome,
    RoomsListed,
    SearchFinished,
    SearchPage,
)
from ..errors import LocalProtocolError
from ..targets import is_general, room_target
from .core import SessionCore
from .errors import ConnectionLost, RequestRefused

NOT_SUPPORTED = "not-supported"

#: What the server would answer a change of ``general``, which the protocol
#: cannot even name in these requests (its ``room`` field excludes it):
#: answered here, as the server would, without a round trip.
_GENERAL_REFUSALS = {
    "create": ("already-exists", "general always exists"),
    "join": ("already-member", "every account is in general"),
    "leave": ("cannot-leave-general", "every account stays in general"),
    "invite": ("already-member", "every account is in general"),
}


def recipient_for(to: str | None, room: str | None) -> str | None:
    """The ``recipient`` of a message to user ``to`` or to ``room`` (None,
    ``general`` in any spelling: the room ``general``); both is a caller bug."""
    if to is not None and room is not None:
        raise ValueError("a message goes to a user or to a room, not both")
    if room is not None:
        return room_target(room)
    return to


class RoomOperations(SessionCore):
    """The room and search operations of ``AsyncSession``."""

    @property
    def rooms_supported(self) -> bool:
        """Whether the server speaks rooms and search (agreed version >= 4)."""
        return self._conn.speaks_rooms

    @property
    def protocol_version(self) -> int:
        """The protocol version agreed with the server."""
        return self._conn.version

    def _check_rooms(self) -> None:
        if not self.rooms_supported:
            raise RequestRefused(
                NOT_SUPPORTED,
                f"this server has no rooms (protocol version {self._conn.version})",
            )

    async def create_room(self, room: str, private: bool = False) -> None:
        """Create ``room`` (public, or ``private``: only members see it),
        with this user as its only member."""
        what = f"cannot create {room}"
        await self._change("create", room, what, lambda r: r.create_room(room, private))

    async def join_room(self, room: str) -> None:
        """Become a member of the public room ``room``."""
        await self._change("join", room, f"cannot join {room}", lambda r: r.join_room(room))

    async def leave_room(self, room: str) -> None:
        """Stop being a member of ``room`` (``general`` is refused)."""
        await self._change("leave", room, f"cannot leave {room}", lambda r: r.leave_room(room))

    async def invite(self, room: str, user: str) -> None:
        """Make ``user`` a member of ``room`` at once (we must be one)."""
        what = f"cannot invite {user} to {room}"
        await self._change("invite", room, what, lambda r: r.invite(room, user))

    async def list_rooms(self) -> list[ev.RoomInfo]:
        """The rooms this user may see, every page of the server's answer."""
        outcome = await self._request("cannot list the rooms", lambda r: r.list_rooms())
        assert isinstance(outcome, RoomsListed)
        return list(outcome.rooms)

    async def search(
        self,
        query: str,
        *,
        room: str | None = None,
        sender: str | None = None,
        limit: int = 20,
        before_seq: int = 0,
    ) -> SearchPage:
        """Up to ``limit`` (1..100) messages matching ``query``, newest first,
        with a seq below ``before_seq`` (0: the newest); ``room`` (a room name,
        ``general`` too) and ``sender`` narrow it. The next page: the same
        search with ``before_seq=page.next_before_seq`` while ``page.more``."""
        outcome = await self._request(
            "search failed",
            lambda r: r.search(query, limit, before_seq, room, sender),
        )
        assert isinstance(outcome, SearchFinished)
        return outcome.page

    async def _change(
        self, kind: str, room: str, what: str, build: Callable[[ClientRequests], RequestEvent]
    ) -> None:
        if is_general(room):
            self._check_rooms()
            reason, detail = _GENERAL_REFUSALS[kind]
            raise RequestRefused(reason, f"{what}: {reason} ({detail})")
        await self._request(what, build)

    async def _request(
        self, what: str, build: Callable[[ClientRequests], RequestEvent]
    ) -> RequestOutcome:
        self._check_rooms()
        await self._request_slots.acquire()
        if self._final is not None:
            self._request_slots.release()
            raise self._lost()
        requests = self._client.requests
        try:
            request = build(requests)
        except BaseException:
            self._request_slots.release()
            raise
        waiter: asyncio.Future[RequestOutcome] = self._loop.create_future()
        self._requests[request.request_id] = waiter
        try:
            self._send(request)
        except (LocalProtocolError, ConnectionLost) as exc:
            # Never sent: no answer will come to free the slot.
            self._requests.pop(request.request_id, None)
            requests.forget(request.request_id)
            self._request_slots.release()
            if isinstance(exc, ConnectionLost):
                raise
            reason = "bad-query" if isinstance(request, ev.SearchHistory) else "invalid-name"
            raise RequestRefused(reason, f"{what}: {exc}") from None
        await self._drain()
        outcome = await waiter
        if isinstance(outcome, RequestFailed):
            raise RequestRefused(outcome.reason, f"{what}: {outcome.describe()}")
        return outcome


__all__ = ["NOT_SUPPORTED", "RoomOperations", "recipient_for"]
