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
    """The participant list. A login sends all of it, so the ``Participant``
    objects and the tuple of them are kept until the list changes: with
    thousands of participants, rebuilding them on every login made logins
    slow down as users accumulated."""

    def __init__(self) -> None:
        self._entries: dict[str, Participant] = {}
        self._snapshot: tuple[Participant, ...] | None = ()
        #: Encoded size of the names in a participant list (2 length bytes each).
        self._names_size = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def state(self, name: str) -> ParticipantState | None:
        entry = self._entries.get(name)
        return None if entry is None else entry.state

    def is_deactivated(self, name: str) -> bool:
        return self.state(name) is ParticipantState.DEACTIVATED

    def activate(self, name: str) -> PresenceState:
        """``name`` logged in: ``REJOINED`` if it was deactivated, else ``JOINED``."""
        previous = self.state(name)
        self._set(name, ParticipantState.ACTIVE)
        if previous is ParticipantState.DEACTIVATED:
            return PresenceState.REJOINED
        return PresenceState.JOINED

    def deactivate(self, name: str) -> None:
        self._set(name, ParticipantState.DEACTIVATED)

    def remove(self, name: str) -> None:
        if self._entries.pop(name, None) is not None:
            self._names_size -= _entry_size(name)
            self._snapshot = None

    def _set(self, name: str, state: ParticipantState) -> None:
        entry = self._entries.get(name)
        if entry is not None and entry.state is state:
            return
        if entry is None:
            self._names_size += _entry_size(name)
        self._entries[name] = Participant(name, state)
        self._snapshot = None

    def fits(self, name: str, frame_limit: int) -> bool:
        """Whether the list, with ``name`` added, fits a LoginAccepted frame
        of at most ``frame_limit`` bytes and the protocol's count limit."""
        new = name not in self._entries
        if len(self._entries) + new > MAX_PARTICIPANTS:
            return False
        size = _LOGIN_ACCEPTED_OVERHEAD + self._names_size
        if new:
            size += _entry_size(name)
        return size <= frame_limit

    def snapshot(self) -> tuple[Participant, ...]:
        if self._snapshot is None:
            self._snapshot = tuple(self._entries.values())
        return self._snapshot


def _entry_size(name: str) -> int:
    return 2 + len(name.encode())


def count_phrase(count: int) -> str:
    """``(3 participants)`` for the server log."""
    return f"({count} participant{'' if count == 1 else 's'})"
