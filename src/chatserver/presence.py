"""Who counts as a participant: active and deactivated users, as the original.

A user joins (or rejoins after a deactivation), is deactivated by anything
but a normal exit, and leaves by a normal exit (or when a deactivation grace
time runs out). The participant count includes deactivated users.
"""

from __future__ import annotations

from chatproto import Participant, ParticipantState, PresenceState
from chatproto.limits import MAX_PARTICIPANTS, MAX_USERNAME_BYTES

#: LoginAccepted's fields besides the participant list (its own user name included).
_LOGIN_ACCEPTED_OVERHEAD = 32 + MAX_USERNAME_BYTES


class Participants:
    def __init__(self) -> None:
        self._states: dict[str, ParticipantState] = {}

    def __len__(self) -> int:
        return len(self._states)

    def __contains__(self, name: object) -> bool:
        return name in self._states

    def state(self, name: str) -> ParticipantState | None:
        return self._states.get(name)

    def is_deactivated(self, name: str) -> bool:
        return self._states.get(name) is ParticipantState.DEACTIVATED

    def activate(self, name: str) -> PresenceState:
        """``name`` logged in: ``REJOINED`` if it was deactivated, else ``JOINED``."""
        previous = self._states.get(name)
        self._states[name] = ParticipantState.ACTIVE
        if previous is ParticipantState.DEACTIVATED:
            return PresenceState.REJOINED
        return PresenceState.JOINED

    def deactivate(self, name: str) -> None:
        self._states[name] = ParticipantState.DEACTIVATED

    def remove(self, name: str) -> None:
        self._states.pop(name, None)

    def fits(self, name: str, frame_limit: int) -> bool:
        """Whether the list, with ``name`` added, fits a LoginAccepted frame
        of at most ``frame_limit`` bytes and the protocol's count limit."""
        count = len(self._states) + (name not in self._states)
        if count > MAX_PARTICIPANTS:
            return False
        size = _LOGIN_ACCEPTED_OVERHEAD + sum(2 + len(n.encode()) for n in self._states)
        if name not in self._states:
            size += 2 + len(name.encode())
        return size <= frame_limit

    def snapshot(self) -> tuple[Participant, ...]:
        return tuple(Participant(name, state) for name, state in self._states.items())


def count_phrase(count: int) -> str:
    """``(3 participants)`` for the server log."""
    return f"({count} participant{'' if count == 1 else 's'})"
