"""What a ``Presence`` event means for a participant list, written once.

Every side that keeps a list (the server, the session, each frontend) applies
presence the same way, so the rule lives here rather than in each of them:
``JOINED`` and ``REJOINED`` make a user active, ``DEACTIVATED`` keeps them
counted but inactive, ``LEFT`` removes them. How a list is cut into pages
that fit a peer's frames (``participant_pages``, and ``room_pages`` for the
room list) lives here too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from types import MappingProxyType
from typing import Final, Generic, TypeVar

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
from .limits import MAX_PARTICIPANTS, MAX_ROOMS_PER_PAGE
from .list_fields import PARTICIPANTS, participant_size, room_entry_size
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


class Paginator(Generic[T]):
    """Items cut into pages as they come: at most ``most`` items and ``room``
    bytes a page (``first_room`` for the first). ``pages()`` is always what
    cutting everything added so far at once would give, so a list that only
    grows at its end (a server's participant list as users arrive) is cut
    once in all rather than once per arrival. There is always a first page,
    empty for no items; no later page is empty."""

    __slots__ = ("_done", "_first_room", "_limit", "_most", "_page", "_pages", "_room",
                 "_size_of", "_used")

    def __init__(
        self, size_of: Callable[[T], int], first_room: int, room: int, most: int
    ) -> None:
        self._size_of = size_of
        self._first_room, self._room, self._most = first_room, room, most
        #: The full pages, the one being filled, its bytes and its room.
        self._done: list[tuple[T, ...]] = []
        self._page: list[T] = []
        self._used, self._limit = 0, first_room
        self._pages: list[tuple[T, ...]] | None = None

    def add(self, item: T) -> None:
        """``item`` after every item added before it."""
        size = self._size_of(item)
        page = self._page
        if page and (self._used + size > self._limit or len(page) == self._most):
            self._done.append(tuple(page))
            page = self._page = []
            self._used, self._limit = 0, self._room
        page.append(item)
        self._used += size
        self._pages = None

    def extend(self, items: Iterable[T]) -> None:
        """Each of ``items``, in order, as ``add`` would."""
        for item in items:
            self.add(item)

    def pages(self) -> list[tuple[T, ...]]:
        """Every page, the first one first: the same list until the next
        ``add`` (the caller must not change it)."""
        if self._pages is None:
            last = [tuple(self._page)] if self._page or not self._done else []
            self._pages = self._done + last
        return self._pages


def participant_pager(max_frame_size: int) -> Paginator[Participant]:
    """An empty participant list to add to, cut as ``participant_pages`` cuts
    a whole one for a peer whose payloads hold ``max_frame_size`` bytes."""
    # Room beside the largest everything else of a LoginAccepted can be.
    accepted = LAYOUT_BY_CLASS[LoginAccepted]
    first_room = max_frame_size - (accepted.max_payload - PARTICIPANTS.max_bytes)
    room = max_frame_size - LAYOUT_BY_CLASS[ParticipantList].fixed_size
    return Paginator(participant_size, first_room, room, MAX_PARTICIPANTS)


def participant_pages(
    participants: Sequence[Participant], max_frame_size: int
) -> list[tuple[Participant, ...]]:
    """Cut a participant list into pages for a peer that accepts payloads of
    ``max_frame_size`` bytes: the first page fits ``LoginAccepted`` (with any
    user name), every later one a ``ParticipantList``. There is always a first
    page, empty for an empty list; no later page is empty."""
    pages = participant_pager(max_frame_size)
    pages.extend(participants)
    return pages.pages()


def room_pages(rooms: Sequence[RoomInfo], max_frame_size: int) -> list[tuple[RoomInfo, ...]]:
    """``rooms`` cut into ``RoomList`` pages for a peer whose frames hold
    ``max_frame_size`` bytes: at most ``MAX_ROOMS_PER_PAGE`` each; one empty
    page for no rooms, and no empty page otherwise (docs/protocol.md 7.10)."""
    room = max_frame_size - LAYOUT_BY_CLASS[RoomList].fixed_size
    pages = Paginator(room_entry_size, room, room, MAX_ROOMS_PER_PAGE)
    pages.extend(rooms)
    return pages.pages()


def participant_count_text(count: int) -> str:
    """``1 participant``, ``3 participants``: the English phrase the server log
    and the command line print (the GUI translates its own, with ngettext)."""
    return f"{count} participant{'' if count == 1 else 's'}"


__all__ = [
    "PARTICIPANT_STATE_OF",
    "Paginator",
    "apply_presence",
    "participant_count_text",
    "participant_pager",
    "participant_pages",
    "room_pages",
]
