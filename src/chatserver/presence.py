"""Who counts as a participant: active and deactivated users, as the original.

A user joins (or rejoins after a deactivation), is deactivated by anything
but a normal exit, and leaves by a normal exit (or when a deactivation grace
time runs out). The participant count includes deactivated users.
"""

from __future__ import annotations

from chatproto import (
    PARTICIPANT_STATE_OF,
    Paginator,
    Participant,
    ParticipantState,
    PresenceState,
    participant_count_text,
    participant_pager,
)
from chatproto.limits import MAX_PARTICIPANTS


class Participants:
    """The participant list. A login sends all of it, so the ``Participant``
    objects and their pages are kept: with thousands of participants,
    rebuilding them on every login made logins slow down as users
    accumulated. An arrival is added to the pages kept (after a restart every
    login is one: a reconnect storm would otherwise cut the list anew for
    each of N logins, N^2 work); any other change cuts them anew at the next
    login.

    Deactivated users stay participants, as in the original; but past
    ``max_deactivated`` of them, or when the list would outgrow the protocol's
    ``MAX_PARTICIPANTS``, the one deactivated longest leaves, so that
    throwaway accounts cannot grow the list (and every login's copy of it)
    without bound.
    """

    def __init__(self, max_deactivated: int | None = None) -> None:
        self.max_deactivated = max_deactivated
        self._entries: dict[str, Participant] = {}
        #: Deactivated users, longest deactivated first.
        self._deactivated: dict[str, None] = {}
        #: The list cut into pages, per peer frame limit.
        self._pages: dict[int, Paginator[Participant]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def state(self, name: str) -> ParticipantState | None:
        entry = self._entries.get(name)
        return None if entry is None else entry.state

    def is_deactivated(self, name: str) -> bool:
        return name in self._deactivated

    @property
    def deactivated_count(self) -> int:
        return len(self._deactivated)

    @property
    def full(self) -> bool:
        """No room for one more, not even by letting a deactivated user go."""
        return len(self._entries) >= MAX_PARTICIPANTS and not self._deactivated

    def activate(self, name: str) -> tuple[PresenceState, list[str]]:
        """``name`` logged in: ``REJOINED`` if it was deactivated, else
        ``JOINED``; and the users who left to make room (``_make_room``)."""
        rejoined = self.state(name) is ParticipantState.DEACTIVATED
        change = PresenceState.REJOINED if rejoined else PresenceState.JOINED
        self._apply(name, change)
        return change, self._make_room()

    def deactivate(self, name: str) -> list[str]:
        """Mark ``name`` deactivated; returns the users who left to make room."""
        self._apply(name, PresenceState.DEACTIVATED)
        return self._make_room()

    def _make_room(self) -> list[str]:
        """Let the longest deactivated go while there are more than
        ``max_deactivated`` of them or the list is over ``MAX_PARTICIPANTS``;
        the names, already removed."""
        evicted: list[str] = []
        limit = MAX_PARTICIPANTS if self.max_deactivated is None else self.max_deactivated
        while self._deactivated and (
            len(self._deactivated) > limit or len(self._entries) > MAX_PARTICIPANTS
        ):
            oldest = next(iter(self._deactivated))
            self.remove(oldest)
            evicted.append(oldest)
        return evicted

    def remove(self, name: str) -> None:
        """``name`` left."""
        self._apply(name, PresenceState.LEFT)

    def _apply(self, name: str, change: PresenceState) -> None:
        """What ``change`` means for the list: the rule every side applies
        (``chatproto.PARTICIPANT_STATE_OF``)."""
        state = PARTICIPANT_STATE_OF[change]
        if state is not None:
            self._set(name, state)
        elif self._entries.pop(name, None) is not None:
            self._deactivated.pop(name, None)
            self._changed()

    def _set(self, name: str, state: ParticipantState) -> None:
        entry = self._entries.get(name)
        if entry is not None and entry.state is state:
            return
        participant = self._entries[name] = Participant(name, state)
        if state is ParticipantState.DEACTIVATED:
            self._deactivated[name] = None
        else:
            self._deactivated.pop(name, None)
        if entry is None:  # a new entry, at the end of the list: so on every page kept
            for pages in self._pages.values():
                pages.add(participant)
        else:
            self._changed()

    def _changed(self) -> None:
        self._pages.clear()

    def snapshot(self) -> tuple[Participant, ...]:
        return tuple(self._entries.values())

    def pages(self, frame_limit: int) -> list[tuple[Participant, ...]]:
        """The list cut for a peer whose frames hold ``frame_limit`` bytes:
        the first page goes in LoginAccepted, the others in ParticipantList."""
        pages = self._pages.get(frame_limit)
        if pages is None:
            if len(self._pages) >= 8:  # peers announce few distinct limits
                self._pages.clear()
            pages = self._pages[frame_limit] = participant_pager(frame_limit)
            pages.extend(self._entries.values())
        return pages.pages()


def count_phrase(count: int) -> str:
    """``(3 participants)`` for the server log."""
    return f"({participant_count_text(count)})"
