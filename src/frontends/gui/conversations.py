"""Conversations: the rooms and the direct conversations the window shows.

Pure, no Tk. A conversation is a room (``general`` included) or a direct
conversation with one other user. Names are compared by skeleton, as the
server compares room and user names, so ``Dev`` and ``dev`` are one room.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from chatproto import GENERAL_ROOM, is_general, username_skeleton

ROOM = "room"
DIRECT = "direct"


@dataclass(frozen=True)
class Conversation:
    kind: str
    #: As shown; the first spelling seen wins.
    name: str = field(compare=False)
    key: str = field(init=False)

    def __post_init__(self) -> None:
        if self.kind == ROOM:
            key = "#" + (GENERAL_ROOM if is_general(self.name) else username_skeleton(self.name))
        else:
            key = "@" + username_skeleton(self.name)
        object.__setattr__(self, "key", key)

    @property
    def is_room(self) -> bool:
        return self.kind == ROOM

    @property
    def is_general(self) -> bool:
        return self.key == "#" + GENERAL_ROOM

    @property
    def room(self) -> str | None:
        """What the session's ``room=`` takes: None for general (the one
        spelling every server version knows) and for a direct conversation."""
        return self.name if self.is_room and not self.is_general else None

    @property
    def to(self) -> str | None:
        """What the session's ``to=`` takes: the other user, or None."""
        return None if self.is_room else self.name


GENERAL = Conversation(ROOM, GENERAL_ROOM)


def room(name: str) -> Conversation:
    return GENERAL if is_general(name) else Conversation(ROOM, name)


def direct(user: str) -> Conversation:
    return Conversation(DIRECT, user)


class Routed(Protocol):
    """A message, a file or a search hit: where it went and who sent it."""

    @property
    def sender(self) -> str: ...
    @property
    def recipient(self) -> str | None: ...
    @property
    def room(self) -> str | None: ...


def conversation_of(event: Routed, me: str) -> Conversation:
    """Where a message or a file belongs: its room, or for a direct message
    the other user (the recipient of one's own, the sender of another's)."""
    name = event.room
    if name is not None:
        return room(name)
    other = event.recipient if event.sender == me else event.sender
    return direct(other or event.sender)


def ordered(conversations: list[Conversation]) -> list[Conversation]:
    """General first, then the rooms, then the direct conversations, each
    group by name regardless of case."""

    def rank(conversation: Conversation) -> tuple[int, str]:
        group = 0 if conversation.is_general else 1 if conversation.is_room else 2
        return group, conversation.name.casefold()

    return sorted(conversations, key=rank)
