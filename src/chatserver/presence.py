"""Who counts as a participant: active and deactivated users, as the original.

A user joins (or rejoins after a deactivation), is deactivated by anything
but a normal exit, and leaves by a normal exit (or when a deactivation grace
time runs out). The participant count includes deactivated users.
"""

from __future__ import annotations

from chatproto import Participant, ParticipantState, PresenceState


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

    def snapshot(self) -> tuple[Participant, ...]:
        return tuple(Participant(name, state) for name, state in self._states.items())


def count_phrase(count: int) -> str:
    """``(3 participants)`` for the server log."""
    return f"({count} participant{'' if count == 1 else 's'})"
