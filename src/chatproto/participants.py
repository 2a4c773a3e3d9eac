"""What a ``Presence`` event means for a participant list, written once.

Every side that keeps a list (the server, the session, each frontend) applies
presence the same way, so the rule lives here rather than in each of them:
``JOINED`` and ``REJOINED`` make a user active, ``DEACTIVATED`` keeps them
counted but inactive, ``LEFT`` removes them. How a list is cut into pages
that fit a peer's frames (``participant_pages``) lives here too.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from types import MappingProxyType
from typing import Final

from .events import (
    LoginAccepted,
    Participant,
    ParticipantList,
    ParticipantState,
    Presence,
    PresenceState,
)
from .fields import PARTICIPANTS, participant_size
from .limits import MAX_PARTICIPANTS
from .wire import LAYOUT_BY_CLASS

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
    room = first_room
    pages: list[tuple[Participant, ...]] = []
    page: list[Participant] = []
    used = 0
    for participant in participants:
        size = participant_size(participant)
        if page and (used + size > room or len(page) == MAX_PARTICIPANTS):
            pages.append(tuple(page))
            page, used = [], 0
            room = max_frame_size - LAYOUT_BY_CLASS[ParticipantList].fixed_size
        page.append(participant)
        used += size
    if page or not pages:
        pages.append(tuple(page))
    return pages


def participant_count_text(count: int) -> str:
    """``1 participant``, ``3 participants``: the English phrase the server log
    and the command line print (the GUI translates its own, with ngettext)."""
    return f"{count} participant{'' if count == 1 else 's'}"


__all__ = ["PARTICIPANT_STATE_OF", "apply_presence", "participant_pages", "participant_count_text"]
