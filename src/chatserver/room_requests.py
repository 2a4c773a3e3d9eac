"""Answering the room requests and searches of a connection (version 4).

Each request gets exactly one answer, on the connection that asked and on
no other: ``RequestDone`` once the change is committed (then the
``Membership`` goes to the room's members, the user included), or
``RequestRejected`` with a reason and a readable message. A change is
decided by ``rooms.RoomRegistry``, committed by the store in one
transaction, and only then made in the registry: a failed commit changes
nothing. All of it runs on the loop, synchronously, like the hub's chat
commits, so no message is committed between a member's ``joined_seq`` and
the moment delivery starts to include them.

A search reads on the store's own read connection in a worker thread
(``asyncio.to_thread``): a slow query never holds the loop.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from chatproto import (
    CreateRoom,
    Event,
    InviteToRoom,
    JoinRoom,
    LeaveRoom,
    ListRooms,
    Membership,
    MembershipState,
    RequestDone,
    RequestRejected,
    RequestRejectReason,
    RoomList,
    SearchDone,
    SearchHistory,
    SearchHit,
    is_general,
    room_pages,
)

from .accounts import AccountNames
from .log import log, peer_quoted
from .ports import Bus, Store, StoredRoom, now_ms
from .rooms import Change, Refusal, RoomRegistry
from .search import BadQuery

RoomChange = CreateRoom | JoinRoom | LeaveRoom | InviteToRoom


class Asking(Protocol):
    """The connection a request came from."""

    @property
    def username(self) -> str | None: ...

    @property
    def closed(self) -> bool: ...

    @property
    def peer_max_frame_size(self) -> int: ...

    def queue(self, event: Event) -> None: ...


class RoomRequests:
    def __init__(
        self, rooms: RoomRegistry, store: Store, bus: Bus, accounts: AccountNames
    ) -> None:
        self.rooms = rooms
        self.store = store
        self.bus = bus
        self.accounts = accounts

    # -- changes -------------------------------------------------------------------

    def change(self, client: Asking, event: RoomChange) -> None:
        user = client.username
        assert user is not None
        rooms, seq = self.rooms, self.store.last_seq
        decision: Change | Refusal
        if isinstance(event, CreateRoom):
            decision = rooms.create(user, event.room, event.private)
        elif isinstance(event, JoinRoom):
            decision = rooms.join(user, event.room)
        elif isinstance(event, LeaveRoom):
            decision = rooms.leave(user, event.room)
        else:
            invitee = self.accounts.registered(event.user)
            decision = rooms.invite(user, event.room, invitee)
        if isinstance(decision, Refusal):
            client.queue(RequestRejected(event.request_id, decision.reason, decision.message))
            return
        try:
            self._commit(decision, seq)
        except Exception as exc:  # whatever it was: nothing changed, and the user is told
            log.error("could not store a change of room %s: %s: %s",
                      decision.room.name, type(exc).__name__, exc)
            client.queue(RequestRejected(event.request_id, RequestRejectReason.SERVER_ERROR,
                                         "the server could not store it"))
            return
        count = rooms.apply(decision, seq)
        client.queue(RequestDone(event.request_id))
        room = decision.room
        log.info("%s %s #%s (%d members)%s", decision.user, decision.state.value, room.name,
                 count, f", invited by {user}" if isinstance(event, InviteToRoom) else "")
        # The leaver is no longer a member, yet is told too.
        names = [*room.members]
        if decision.state is MembershipState.LEFT:
            names.append(decision.user)
        self.bus.notify(Membership(room.name, decision.user, decision.state, count), names)

    def _commit(self, change: Change, seq: int) -> None:
        room, store = change.room, self.store
        if change.creates:
            store.create_room(StoredRoom(room.name, room.private, change.user, seq), now_ms())
        elif change.state is MembershipState.JOINED:
            store.add_room_member(room.name, change.user, seq)
        else:
            store.remove_room_member(room.name, change.user, drop_room=change.drops)

    def account_deleted(self, name: str) -> None:
        """The administrator deleted ``name``, its memberships with it in the
        store: the rooms forget it, and their members are told it left."""
        for room, count in self.rooms.forget_user(name):
            if room.members:
                self.bus.notify(Membership(room.name, name, MembershipState.LEFT, count),
                                room.members)

    # -- listing ---------------------------------------------------------------------

    def list_rooms(self, client: Asking, event: ListRooms) -> None:
        user = client.username
        assert user is not None
        listing = self.rooms.listing(user, len(self.accounts))
        *pages, last = room_pages(listing, client.peer_max_frame_size)
        for page in pages:
            client.queue(RoomList(event.request_id, page, True))
        client.queue(RoomList(event.request_id, last, False))

    # -- search ----------------------------------------------------------------------

    async def search(self, client: Asking, event: SearchHistory) -> None:
        user = client.username
        assert user is not None
        request_id = event.request_id
        room = event.room
        if room is not None and not is_general(room):
            found = self.rooms.visible(room, user)
            if found is None:
                client.queue(RequestRejected(request_id, RequestRejectReason.NOT_FOUND,
                                             "no such room"))
                return
            if user not in found.members:
                client.queue(RequestRejected(request_id, RequestRejectReason.NOT_MEMBER,
                                             f"only members of #{found.name} see its history"))
                return
            room = found.name
        sender = event.sender
        if sender is not None:
            sender = self.accounts.registered(sender) or sender  # "BOB" is bob
        try:
            rows, more = await asyncio.to_thread(
                self.store.search, user, event.query, room=room, sender=sender,
                before_seq=event.before_seq, limit=event.limit,
            )
        except BadQuery as exc:
            client.queue(RequestRejected(request_id, RequestRejectReason.BAD_QUERY, str(exc)))
            return
        except Exception as exc:
            log.error("search %s of %s failed: %s: %s", peer_quoted(event.query), user,
                      type(exc).__name__, exc)
            client.queue(RequestRejected(request_id, RequestRejectReason.SERVER_ERROR,
                                         "the search failed"))
            return
        if client.closed:
            return
        for seq, timestamp_ms, who, recipient, text in rows[: event.limit]:
            client.queue(SearchHit(request_id, seq, timestamp_ms, who, recipient, text))
        client.queue(SearchDone(request_id, more))
