"""What a ``Presence`` event means for a participant list, written once.

Every side that keeps a list (the server, the session, each frontend) applies
presence the same way, so the rule lives here rather than in each of them:
``JOINED`` and ``REJOINED`` make a user active, ``DEACTIVATED`` keeps them
counted but inactive, ``LEFT`` removes them.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from types import MappingProxyType
from typing import Final

from .events import ParticipantState, Presence, PresenceState

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


def participant_count_text(count: int) -> str:
    """``1 participant``, ``3 participants``: the English phrase the server log
    and the command line print (the GUI translates its own, with ngettext)."""
    return f"{count} participant{'' if count == 1 else 's'}"


__all__ = ["PARTICIPANT_STATE_OF", "apply_presence", "participant_count_text"]
