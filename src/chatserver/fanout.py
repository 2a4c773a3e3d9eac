"""The in-process ``ports.Bus``: which connections each entry, presence
change or notice goes to, and by which of their two paths.

A broadcast (an event whose ``PreparedEvent.broadcast`` bytes the core
gives: it changes no state and fits every peer) is not queued per
connection at all: it goes once into this turn's log, and at the end of the
turn every live outbox writes the same joined bytes. One append per
broadcast, one ``write`` per connection per turn, whatever the number of
recipients. Anything else is queued on each recipient's ``Outbox``. The
log, the outboxes and the invariant that keeps each connection's bytes in
order are ``outbox``'s (``Outboxes``, which ``Fanout`` extends): this module
only chooses the recipients.
"""

from __future__ import annotations

from collections.abc import Iterable

from chatproto import ChatMessage, Event, FileAvailable, PreparedEvent, Presence, prepare

# Re-exported: the connections and the tests import them from here.
from .outbox import Outbox as Outbox
from .outbox import Outboxes
from .outbox import Owner as Owner
from .outbox import Writer as Writer


class Fanout(Outboxes):
    """The in-process ``ports.Bus``: each delivery to its recipients, through
    the turn's log or their own outboxes (both kept by ``Outboxes``)."""

    # -- ports.Bus ---------------------------------------------------------------

    def deliver(
        self,
        entry: ChatMessage | FileAvailable,
        sender: str,
        recipient: str | None,
        for_others: ChatMessage | FileAvailable | None = None,
    ) -> None:
        if recipient is None:
            prepared = prepare(entry)
            data = prepared.broadcast
            if data is not None and for_others is None:
                self._publish(data)  # no per-recipient work at all
                return
            others = prepared if for_others is None else prepare(for_others)
            for outbox in list(self._live):  # a refused send takes its outbox out
                outbox.queue(prepared if outbox.name == sender else others)
            return
        prepared = prepare(entry)
        others = prepared if for_others is None else prepare(for_others)
        for name in (sender, recipient) if sender != recipient else (sender,):
            target = self._members.get(name)
            if target is not None and target.live:
                target.queue(prepared if name == sender else others)

    def deliver_to(
        self,
        entry: ChatMessage | FileAvailable,
        sender: str,
        names: Iterable[str],
        for_others: ChatMessage | FileAvailable | None = None,
    ) -> None:
        # A room's entry never goes into the shared log: its bytes are for the
        # room's members alone, and only those whose connection speaks rooms
        # (a version 3 peer of a member simply does not get room traffic).
        prepared = prepare(entry)
        others = prepared if for_others is None else prepare(for_others)
        members = self._members
        for name in names:
            target = members.get(name)
            if target is not None and target.live and target.conn.speaks_rooms:
                target.queue(prepared if name == sender else others)

    def notify(self, event: Event, names: Iterable[str]) -> None:
        prepared: PreparedEvent | None = None
        members = self._members
        for name in names:
            target = members.get(name)
            if target is not None and target.conn.speaks_rooms:
                if prepared is None:
                    prepared = prepare(event)
                target.queue(prepared)

    def announce(self, presence: Presence) -> None:
        prepared = prepare(presence)
        data = prepared.broadcast
        if data is not None:
            self._publish(data)
        for outbox in list(self._members.values() if data is None else self._not_live):
            outbox.queue(prepared)

