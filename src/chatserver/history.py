"""What a user missed: where its replay starts, and the replay itself.

A replay reads the history in batches and queues it on the connection in
steps, each written before the next is read; when a query comes back empty,
the connection goes live with no ``await`` in between, so no entry committed
meanwhile slips between the replay and the live messages.
"""

from __future__ import annotations

from typing import Protocol

from chatproto import Event, FileAvailable, Login
from chatproto.limits import SKIP_REPLAY

from .ports import Account, Store

#: About this many characters of history are queued per replay step.
REPLAY_STEP = 256 * 1024


def replay_start(login: Login, account: Account, store: Store) -> tuple[int, bool]:
    """After which seq to replay, and whether the client's seq belongs to
    another history (docs/protocol.md, the epoch): then all of it."""
    other_history = login.epoch not in (0, store.epoch)
    if login.last_seen_seq == SKIP_REPLAY:
        return SKIP_REPLAY, other_history
    if other_history or login.last_seen_seq > store.last_seq:
        return account.created_seq, True
    return max(login.last_seen_seq, account.created_seq), False


class Replaying(Protocol):
    """The connection a replay is written to."""

    @property
    def username(self) -> str | None: ...

    @property
    def closed(self) -> bool: ...

    @property
    def speaks_rooms(self) -> bool:
        """Its peer knows rooms: a version 3 peer is replayed none of their entries."""
        ...

    def queue(self, event: Event) -> None: ...

    def as_replayed(self, entry: FileAvailable) -> FileAvailable:
        """``entry`` as this connection must see it in its replay."""
        ...

    def flush_output(self) -> None: ...

    async def writable(self) -> None: ...

    def go_live(self) -> None: ...


def replay_step(client: Replaying, store: Store, after: int, batch: int) -> int | None:
    """Queue the next step of what ``client``'s user missed after seq
    ``after``: the seq the step after it starts from, or None when nothing was
    left and ``client`` went live.

    Called with no ``await`` since the query, so a step that finds fewer
    than ``batch`` entries up to ``store.last_seq`` found all there are: the
    client goes live at once, in the turn of its login, and the broadcasts
    made meanwhile reach it through the shared log rather than one ``send``
    each (docs/performance.md, the reconnect storm)."""
    user = client.username
    assert user is not None
    entries = store.history_for(user, after, store.last_seq, batch, rooms=client.speaks_rooms)
    # Steps of about REPLAY_STEP characters, each written before the next is
    # queued: a batch of long messages at once would overflow the output
    # bound of a client on a slow link, dropped as too slow at every login
    # and never caught up.
    size = 0
    for queued, entry in enumerate(entries, 1):
        if isinstance(entry, FileAvailable):
            entry = client.as_replayed(entry)
            size += 512
        else:
            size += 64 + len(entry.text)
        client.queue(entry)
        after = entry.seq
        if size >= REPLAY_STEP and queued < len(entries):
            return after
    if len(entries) < batch:
        client.go_live()  # no await since the query: nothing slips between
        return None
    return after


async def replay(client: Replaying, store: Store, after: int, batch: int) -> None:
    """Go on with the replay from ``after`` (where ``replay_step`` stopped),
    each step written before the next is read, until ``client`` is live."""
    while not client.closed:
        client.flush_output()
        await client.writable()
        if client.closed:
            return
        next_after = replay_step(client, store, after, batch)
        if next_after is None:
            return
        after = next_after
