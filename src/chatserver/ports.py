"""The two seams of the hub: where it keeps things (``Store``) and how it
reaches the logged-in users' connections (``Bus``), with the values that
cross them.

The hub knows only these Protocols. ``sqlite_store.SqliteStore`` and
``fanout.Fanout`` (in-process) are the single node's; the cluster mode's are
``cluster.pg_store.PgStore`` and ``cluster.bus.ClusterBus``, with the few
rules that must differ in ``cluster.hub.ClusterHub``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

import attrs

from chatproto import ChatMessage, Event, FileAvailable, Presence, room_of

#: One chat line of the history, in the order of its columns:
#: (seq, timestamp_ms, sender, recipient, client_id, text).
ChatRow = tuple[int, int, str, str | None, int, str]


def now_ms() -> int:
    """Wall-clock milliseconds: the timestamps of history entries and accounts."""
    return time.time_ns() // 1_000_000


@attrs.frozen
class Account:
    name: str
    password_hash: str
    created_seq: int


@attrs.frozen
class StoredResumeToken:
    """What the store keeps of a resume token: never the token, only whose it
    is and when it was issued (the store finds it by the token's SHA-256)."""

    account: str
    issued_ms: int


@attrs.frozen
class StoredFile:
    id: int
    name: str
    size: int
    sha256: bytes
    stored_name: str
    sender: str
    recipient: str | None
    #: The seq of its announcement in the history.
    seq: int = 0

    def visible_to(self, user: str, joined: Mapping[str, int]) -> bool:
        """Whether ``user`` may fetch it: one of ``general``, a direct message
        of theirs, or a file of a room they are in (``joined``: their rooms
        and the seq from which they see each) announced after they joined,
        the rule of the history itself."""
        if self.recipient is None:
            return True
        room = room_of(self.recipient)
        if room is None:
            return user in (self.sender, self.recipient)
        since = joined.get(room)
        return since is not None and self.seq > since


@attrs.frozen
class StoredRoom:
    """A room other than ``general`` (which has no row)."""

    name: str
    private: bool
    creator: str | None
    created_seq: int


class Store(Protocol):
    """Accounts, the history and the files' metadata.

    ``last_seq`` and ``last_file_id`` are the newest stored seq and file id;
    the hub numbers a batch from them and moves them once it is committed.
    ``epoch`` names this history (docs/protocol.md)."""

    last_seq: int
    last_file_id: int

    @property
    def epoch(self) -> int: ...

    def account_names(self) -> list[str]:
        """Every account's name, oldest first."""
        ...

    def account(self, name: str) -> Account | None: ...

    def create_account(self, account: Account, created_ms: int) -> None: ...

    def resume_token(self, digest: bytes) -> StoredResumeToken | None:
        """The token whose SHA-256 is ``digest``, if one is stored."""
        ...

    def add_resume_token(
        self, account: str, digest: bytes, issued_ms: int, *, replacing: bytes | None,
        keep: int,
    ) -> None:
        """Store a new token of ``account`` and delete the one whose digest is
        ``replacing``, then all but the ``keep`` newest of the account's: all of
        it or, raising, none."""
        ...

    def revoke_resume_tokens(self, account: str) -> None:
        """Delete every token of ``account`` (what a password change must do)."""
        ...

    def drop_resume_tokens(self, issued_before_ms: int) -> int:
        """Delete the tokens issued before ``issued_before_ms``; how many there were."""
        ...

    def commit(
        self, chat_rows: Sequence[ChatRow], files: Sequence[tuple[FileAvailable, str]]
    ) -> None:
        """Store chat rows and file announcements (with their stored names),
        numbered by the caller: all of them or, raising, none."""
        ...

    def history_for(
        self, user: str, after_seq: int, up_to_seq: int, limit: int, *, rooms: bool = True
    ) -> list[ChatMessage | FileAvailable]:
        """Entries ``user`` may see with ``after_seq < seq <= up_to_seq``, in
        order: ``general``, their direct messages and, unless ``rooms`` is
        false (a peer older than rooms), the rooms they are in from the seq
        at which they joined. The first ``limit`` of them: fewer only when
        there are no more (a replay goes live on that)."""
        ...

    # -- rooms ---------------------------------------------------------------

    def rooms(self) -> list[StoredRoom]: ...

    def room_members(self) -> list[tuple[str, str, int]]:
        """Every membership: (room, account, joined_seq)."""
        ...

    def create_room(self, room: StoredRoom, created_ms: int) -> None:
        """Store ``room`` with its creator as first member since ``created_seq``."""
        ...

    def add_room_member(self, room: str, account: str, joined_seq: int) -> None: ...

    def remove_room_member(self, room: str, account: str, *, drop_room: bool) -> None:
        """End a membership; ``drop_room``: it was the last, the room goes too."""
        ...

    def search(
        self, user: str, query: str, *, room: str | None, sender: str | None,
        before_seq: int, limit: int,
    ) -> tuple[list[tuple[int, int, str, str | None, str]], bool]:
        """Matches ``user`` may see, newest first, and whether older ones
        match; safe to call from a worker thread."""
        ...

    def file(self, file_id: int) -> StoredFile | None: ...

    def stored_names(self) -> Iterable[str]: ...

    def close(self) -> None: ...


class Bus(Protocol):
    """Delivery to the logged-in users' connections."""

    def deliver(
        self,
        entry: ChatMessage | FileAvailable,
        sender: str,
        recipient: str | None,
        for_others: ChatMessage | FileAvailable | None = None,
    ) -> None:
        """A committed history entry to the connections that receive live
        messages: everyone's when ``recipient`` is None, else the sender's and
        the recipient's. ``for_others`` is what all but the sender get instead.
        A connection still replaying gets it from the history."""
        ...

    def announce(self, presence: Presence) -> None:
        """A presence change to every logged-in connection, replaying or
        not: no history holds presence."""
        ...

    def deliver_to(
        self,
        entry: ChatMessage | FileAvailable,
        sender: str,
        names: Iterable[str],
        for_others: ChatMessage | FileAvailable | None = None,
    ) -> None:
        """A committed entry of a room to the live connections of the users
        ``names`` (its members) that speak rooms; ``for_others`` as in
        ``deliver``."""
        ...

    def notify(self, event: Event, names: Iterable[str]) -> None:
        """An event of rooms (a ``Membership``) to the logged-in connections
        of ``names`` that speak rooms, replaying or not: no history holds it."""
        ...
