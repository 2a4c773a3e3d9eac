"""Where a message goes: the ``recipient`` field, read as a target.

A ``recipient`` is empty (None) for the room ``general``, a user name for a
direct message, or ``#`` and a room name for another room (version 4). A user
name never starts with ``#``, so the three never mix, and a version 3 peer,
which knows only ``general`` and direct messages, reads the first two as it
always did. ``general`` is always written as None, never as ``#general``:
one spelling, so a server and a client never disagree about a message's room.
"""

from __future__ import annotations

from .limits import GENERAL_ROOM, ROOM_PREFIX
from .names import username_skeleton


def room_target(room: str) -> str | None:
    """The ``recipient`` of a message to ``room`` (None for ``general``,
    however it is spelled: room names are compared by skeleton, as user
    names are)."""
    return None if is_general(room) else ROOM_PREFIX + room


def is_general(room: str) -> bool:
    """Whether ``room`` names ``general`` (``General``, ``GENERAL``, its fullwidth form...)."""
    return room == GENERAL_ROOM or username_skeleton(room) == GENERAL_ROOM


def room_of(recipient: str | None) -> str | None:
    """The room a ``recipient`` names (``general`` for None), or None when
    it names a user (a direct message)."""
    if recipient is None:
        return GENERAL_ROOM
    if recipient.startswith(ROOM_PREFIX):
        return recipient[1:]
    return None


def is_room_target(recipient: str | None) -> bool:
    """Whether ``recipient`` is a ``#room`` (not ``general``, not a user)."""
    return recipient is not None and recipient.startswith(ROOM_PREFIX)


def same_target(ours: str | None, echoed: str | None) -> bool:
    """Whether the server's ``echoed`` recipient is the one we sent to: the
    same room or user, however either was spelled."""
    if ours is None or echoed is None:
        return ours is echoed
    if is_room_target(ours) != is_room_target(echoed):
        return False
    return ours == echoed or username_skeleton(ours) == username_skeleton(echoed)
