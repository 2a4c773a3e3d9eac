"""Rooms other than ``general``: who is in which, and what a change means.

``general`` has no entry here: every account is in it, for good, and its
history is everyone's. Every other room is a ``Room`` with its members and
the seq from which each sees its history (``joined_seq``, the history's
last seq when they joined). The registry is the stored rooms held in
memory: the hub reads it on every room message, so that delivery needs no
query; ``room_requests.py`` changes it only after the store committed the
change, so the two never disagree.

Rooms are found by their name's skeleton (``chatproto.username_skeleton``),
as accounts are. A private room is invisible to non-members: for them it
does not exist (``not-found``, never ``not-member``). A room whose last
member leaves is deleted, so its name is free again and it no longer counts
against its creator's private rooms; its history stays, seen by nobody (a
member of a later room of that name sees only what came after they joined).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from typing import Any

import attrs

from chatproto import (
    GENERAL_ROOM,
    MembershipState,
    RejectReason,
    RequestRejectReason,
    RoomInfo,
    is_general,
    room_of,
    username_problem,
    username_skeleton,
)

from .config import ServerConfig
from .ports import StoredRoom


@attrs.define(eq=False)
class Room:
    name: str
    private: bool
    creator: str | None
    #: account -> the seq after which it sees the room's history.
    members: dict[str, int] = attrs.Factory(dict)

    @property
    def target(self) -> str:
        """The ``recipient`` of its messages."""
        return "#" + self.name


@attrs.frozen
class Refusal:
    reason: RequestRejectReason
    message: str


@attrs.frozen
class Change:
    """A membership change to commit: ``user`` joins or leaves ``room``."""

    room: Room
    user: str
    state: MembershipState
    #: The room is new (``CreateRoom``), or goes with its last member.
    creates: bool = False
    drops: bool = False


class RoomRegistry:
    def __init__(
        self, config: ServerConfig, rooms: Iterable[StoredRoom] = (),
        members: Iterable[tuple[str, str, int]] = (),
    ) -> None:
        self.config = config
        self._by_skeleton: dict[str, Room] = {}
        self._by_name: dict[str, Room] = {}
        #: user -> room name -> joined_seq.
        self._of_user: dict[str, dict[str, int]] = {}
        #: Private rooms that exist, by creator.
        self._private_by: Counter[str] = Counter()
        for stored in rooms:
            self._add(Room(stored.name, stored.private, stored.creator))
        for room_name, account, joined_seq in members:
            room = self._by_name.get(room_name)
            if room is not None:
                self._join(room, account, joined_seq)

    def __len__(self) -> int:
        return len(self._by_name)

    # -- reading -------------------------------------------------------------------

    def find(self, name: str) -> Room | None:
        room = self._by_name.get(name)
        return room if room is not None else self._by_skeleton.get(username_skeleton(name))

    def visible(self, name: str, user: str) -> Room | None:
        """The room ``name`` if ``user`` may know of it (public, or a member)."""
        room = self.find(name)
        if room is None or (room.private and user not in room.members):
            return None
        return room

    def joined(self, user: str) -> Mapping[str, int]:
        """The rooms ``user`` is in and the seq after which they see each."""
        return self._of_user.get(user, {})

    def members(self, target: str) -> Collection[str]:
        """The members of the room whose ``recipient`` is ``target`` (none if it is gone)."""
        name = room_of(target)
        room = None if name is None else self._by_name.get(name)
        return () if room is None else room.members

    def target_for(self, user: str, recipient: str) -> str | tuple[RejectReason, str]:
        """Where a message or file of ``user`` to ``#room`` goes (the room as
        stored), or why it may not be sent there."""
        name = recipient[1:]
        room = self.visible(name, user)
        if room is None:
            return RejectReason.NOT_FOUND, "no such room"
        if user not in room.members:
            return RejectReason.NOT_MEMBER, f"you are not a member of #{room.name}; join it first"
        return room.target

    def listing(self, user: str, accounts: int) -> list[RoomInfo]:
        """What ``ListRooms`` answers: ``general`` (every account in it), then
        the public rooms and the private ones ``user`` is in, by name."""
        mine = self.joined(user)
        rooms = sorted(
            (room for room in self._by_name.values() if not room.private or room.name in mine),
            key=lambda room: (room.name.casefold(), room.name),
        )
        return [RoomInfo(GENERAL_ROOM, accounts, False, True)] + [
            RoomInfo(room.name, len(room.members), room.private, room.name in mine)
            for room in rooms
        ]

    # -- deciding a change (nothing changes until ``apply``) --------------------------

    def _room_limit(self, user: str) -> Refusal | None:
        limit = self.config.max_rooms_per_user
        if len(self.joined(user)) >= limit:
            return Refusal(RequestRejectReason.TOO_MANY_ROOMS,
                           f"you are in {limit} rooms, the most this server allows;"
                           " leave one first")
        return None

    def _full(self, room: Room) -> Refusal | None:
        limit = self.config.max_members_per_room
        if len(room.members) >= limit:
            return Refusal(RequestRejectReason.ROOM_FULL,
                           f"#{room.name} has {limit} members, the most this server allows")
        return None

    def create(self, user: str, name: str, private: bool) -> Change | Refusal:
        problem = username_problem(name)
        if problem is not None:
            return Refusal(RequestRejectReason.INVALID_NAME,
                           f"a room name follows the user name rules: {problem}")
        if is_general(name) or self.find(name) is not None:
            return Refusal(RequestRejectReason.ALREADY_EXISTS, "a room with that name exists")
        refusal = self._room_limit(user)
        if refusal is not None:
            return refusal
        limit = self.config.max_private_rooms_per_creator
        if private and self._private_by[user] >= limit:
            return Refusal(RequestRejectReason.TOO_MANY_PRIVATE_ROOMS,
                           f"you created {limit} private rooms, the most this server allows")
        room = Room(name, private, user)
        return Change(room, user, MembershipState.JOINED, creates=True)

    def join(self, user: str, name: str) -> Change | Refusal:
        if is_general(name):
            return Refusal(RequestRejectReason.ALREADY_MEMBER, "every account is in general")
        room = self.visible(name, user)
        if room is None:
            return Refusal(RequestRejectReason.NOT_FOUND, "no such room")
        if user in room.members:
            return Refusal(RequestRejectReason.ALREADY_MEMBER, f"you are in #{room.name} already")
        return self._room_limit(user) or self._full(room) or Change(
            room, user, MembershipState.JOINED
        )

    def leave(self, user: str, name: str) -> Change | Refusal:
        if is_general(name):
            return Refusal(RequestRejectReason.CANNOT_LEAVE_GENERAL,
                           "every account stays in general")
        room = self.visible(name, user)
        if room is None:
            return Refusal(RequestRejectReason.NOT_FOUND, "no such room")
        if user not in room.members:
            return Refusal(RequestRejectReason.NOT_MEMBER, f"you are not in #{room.name}")
        return Change(room, user, MembershipState.LEFT, drops=len(room.members) == 1)

    def invite(self, inviter: str, name: str, invitee: str | None) -> Change | Refusal:
        """``invitee``: the account as registered, None if there is none."""
        if is_general(name):
            return Refusal(RequestRejectReason.ALREADY_MEMBER, "every account is in general")
        room = self.visible(name, inviter)
        if room is None:
            return Refusal(RequestRejectReason.NOT_FOUND, "no such room")
        if inviter not in room.members:
            return Refusal(RequestRejectReason.NOT_MEMBER,
                           f"only members of #{room.name} may invite; join it first")
        if invitee is None:
            return Refusal(RequestRejectReason.UNKNOWN_USER, "no such user")
        if invitee in room.members:
            return Refusal(RequestRejectReason.ALREADY_MEMBER,
                           f"{invitee} is in #{room.name} already")
        limit = self.config.max_rooms_per_user
        if len(self.joined(invitee)) >= limit:
            return Refusal(RequestRejectReason.TOO_MANY_ROOMS,
                           f"{invitee} is in {limit} rooms, the most this server allows")
        return self._full(room) or Change(room, invitee, MembershipState.JOINED)

    # -- applying a committed change -----------------------------------------------

    def apply(self, change: Change, seq: int) -> int:
        """Make the committed ``change`` (joining after ``seq``); the room's
        member count after it."""
        room = change.room
        if change.creates:
            self._add(room)
        if change.state is MembershipState.JOINED:
            self._join(room, change.user, seq)
        else:
            self._leave(room, change.user)
            if change.drops:
                self._drop(room)
        return len(room.members)

    def replicate(self, kind: str, data: Mapping[str, Any]) -> None:
        """A change another node committed (``cluster.entries``' control
        kinds): made here too. Each is idempotent, since the node that made it
        has it already; the seqs are the store's."""
        if kind == "room_created":
            name, creator = str(data["name"]), data["creator"]
            room = self._by_name.get(name)
            if room is None:
                room = Room(name, bool(data["private"]), None if creator is None else str(creator))
                self._add(room)
            if creator is not None:
                self._join(room, str(creator), int(data["created_seq"]))
            return
        room = self._by_name.get(str(data["room"]))
        if room is None:
            return
        if kind == "member_added":
            self._join(room, str(data["account"]), int(data["joined_seq"]))
        elif kind == "member_removed":
            self._leave(room, str(data["account"]))
            if data.get("drop_room"):
                self._drop(room)

    def forget_user(self, name: str) -> list[tuple[Room, int]]:
        """The account was deleted (the store's rows went with it): the rooms
        it was in, and their member counts now."""
        left: list[tuple[Room, int]] = []
        # Its private rooms no longer count for the name: whoever registers
        # it once it is free starts with none (the store names the creator
        # by the tombstone now).
        self._private_by.pop(name, None)
        for room in self._by_name.values():
            if room.creator == name:
                room.creator = None
        for room_name in list(self.joined(name)):
            room = self._by_name[room_name]
            self._leave(room, name)
            if not room.members:
                self._drop(room)
            left.append((room, len(room.members)))
        return left

    def _add(self, room: Room) -> None:
        self._by_name[room.name] = room
        self._by_skeleton.setdefault(username_skeleton(room.name), room)
        if room.private and room.creator is not None:
            self._private_by[room.creator] += 1

    def _drop(self, room: Room) -> None:
        del self._by_name[room.name]
        skeleton = username_skeleton(room.name)
        if self._by_skeleton.get(skeleton) is room:
            del self._by_skeleton[skeleton]
        if room.private and room.creator is not None:
            self._private_by[room.creator] -= 1
            if self._private_by[room.creator] <= 0:
                del self._private_by[room.creator]

    def _join(self, room: Room, user: str, seq: int) -> None:
        room.members[user] = seq
        self._of_user.setdefault(user, {})[room.name] = seq

    def _leave(self, room: Room, user: str) -> None:
        room.members.pop(user, None)
        mine = self._of_user.get(user)
        if mine is not None:
            mine.pop(room.name, None)
            if not mine:
                del self._of_user[user]
