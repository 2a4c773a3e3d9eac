"""What a ``Presence`` event means for a participant list, written once.

Every side that keeps a list (the server, the session, each frontend) applies
presence the same way, so the rule lives here rather than in each of them:
``JOINED`` and ``REJOINED`` make a user active, ``DEACTIVATED`` keeps them
counted but inactive, ``LEFT`` removes them. How a list is cut into pages
that fit a peer's frames (``participant_pages``, and ``room_pages`` for the
room list) lives here too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from types import MappingProxyType
from typing import Final, TypeVar

from .events import (
    LoginAccepted,
    Participant,
    ParticipantList,
    ParticipantState,
    Presence,
    PresenceState,
    RoomInfo,
    RoomList,
)
from .fields import PARTICIPANTS, participant_size, room_entry_size
from .limits import MAX_PARTICIPANTS, MAX_ROOMS_PER_PAGE
from .wire import LAYOUT_BY_CLASS

T = TypeVar("T")

#: The participant state a presence change leaves the user in; ``None``
#: means the user is no longer listed.
PARTICIPANT_STATE_OF: Final[Mapping[PresenceState, ParticipantState | None]] = MappingProxyType(
    {
        PresenceState.JOINED: ParticipantState.ACTIVE,
        PresenceState.REJOINED: ParticipantState.ACTIVE,
        PresenceState.DEACTIVATED: ParticipantState.DEACTIVATED,
        PresenceState.LEFT: None,
    }
)


def apply_presence(table: MutableMapping[str, ParticipantState], event: Presence) -> None:
    """Update ``table`` (user -> state) in place for one presence change."""
    state = PARTICIPANT_STATE_OF[event.state]
    if state is None:
        table.pop(event.user, None)
    else:
        table[event.user] = state


def _pages(
    items: Sequence[T], size_of: Callable[[T], int], first_room: int, room: int, most: int
) -> list[tuple[T, ...]]:
    """``items`` cut into pages of at most ``most`` items and ``room`` bytes
    (``first_room`` for the first). There is always a first page, empty for no
    items; no later page is empty."""
    pages: list[tuple[T, ...]] = []
    page: list[T] = []
    used, limit = 0, first_room
    for item in items:
        size = size_of(item)
        if page and (used + size > limit or len(page) == most):
            pages.append(tuple(page))
            page, used, limit = [], 0, room
        page.append(item)
        used += size
    if page or not pages:
        pages.append(tuple(page))
    return pages


def participant_pages(
    participants: Sequence[Participant], max_frame_size: int
) -> list[tuple[Participant, ...]]:
    """Cut a participant list into pages for a peer that accepts payloads of
    ``max_frame_size`` bytes: the first page fits ``LoginAccepted`` (with any
    user name), every later one a ``ParticipantList``. There is always a first
    page, empty for an empty list; no later page is empty."""
    # Room beside the largest everything else of a LoginAccepted can be.
    accepted = LAYOUT_BY_CLASS[LoginAccepted]
    first_room = max_frame_size - (accepted.max_payload - PARTICIPANTS.max_bytes)
    room = max_frame_size - LAYOUT_BY_CLASS[ParticipantList].fixed_size
    return _pages(participants, participant_size, first_room, room, MAX_PARTICIPANTS)


def room_pages(rooms: Sequence[RoomInfo], max_frame_size: int) -> list[tuple[RoomInfo, ...]]:
    """``rooms`` cut into ``RoomList`` pages for a peer whose frames hold
    ``max_frame_size`` bytes: at most ``MAX_ROOMS_PER_PAGE`` each; one empty
    page for no rooms, and no empty page otherwise (docs/protocol.md 7.10)."""
    room = max_frame_size - LAYOUT_BY_CLASS[RoomList].fixed_size
    return _pages(rooms, room_entry_size, room, room, MAX_ROOMS_PER_PAGE)


def participant_count_text(count: int) -> str:
    """``1 participant``, ``3 participants``: the English phrase the server log
    and the command line print (the GUI translates its own, with ngettext)."""
    return f"{count} participant{'' if count == 1 else 's'}"


__all__ = ["PARTICIPANT_STATE_OF", "apply_presence", "participant_pages", "participant_count_text"]
