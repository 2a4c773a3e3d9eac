"""The hub of one node of a cluster: the single node's rules, shared state elsewhere.

What differs from ``chatserver.hub.Hub``, and why:

- **Commit, then deliver from the stream.** A turn's batch is committed by
  ``commit_entries``, which numbers it under the cluster's counter row; the
  entry is then published and offered to this node's ``StreamApplier`` like
  any other node's. Delivery (``apply``) happens in stream order only, so
  this node's clients see the others' messages and their own in one order,
  the same on every node. A batch the store refuses is refused to its
  senders, never retried here: a commit whose answer was lost might have
  happened, and a retry would store it twice.
- **``last_seq`` is what this node has delivered**, moved by ``apply``: a
  login replays up to it and takes the rest live, as on one node.
- **Presence is the cluster's.** A login first takes the name in Redis
  (``already-active`` if a live node has it), before the password or the
  resume token is checked, so a refused login costs the client no token.
  Changes go through Redis' scripts and come back to every node, this one
  included, in one order with one count (``remote_presence``); the
  participant list here is a mirror of Redis'. Letting the longest
  deactivated go (``--max-deactivated``) is Redis' too: the scripts that
  deactivate do it and publish the ``left``, so the mirror never evicts. The grace
  of a deactivated user (``--deactivated-grace``) runs on the node that
  deactivated them (theirs, or the survivor whose sweep did) and ends in a
  script that lets them go only if no node has them back.
- **Accounts and rooms** made on other nodes arrive as control entries of
  the stream, applied in order (``RoomRegistry.replicate``).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from typing import Protocol

import attrs

from chatproto import (
    ChatMessage,
    FileAvailable,
    Login,
    LoginRejected,
    LoginRejectReason,
    Presence,
    PresenceState,
    SendChat,
    TransientLogin,
    username_problem,
    username_skeleton,
)
from chatproto.limits import SKIP_REPLAY

from ..config import ServerConfig
from ..hub import Hub, PendingChat, PendingFile, announced_as, failure_line
from ..log import log, peer_quoted
from ..ports import Bus, ChatRow, Store
from ..presence import count_phrase
from ..sessions import Session
from .entries import StreamEntry


class SequencingStore(Store, Protocol):
    """A ``Store`` that numbers commits itself, in one order for all nodes."""

    def commit_entries(
        self, rows: Sequence[ChatRow], files: Sequence[tuple[FileAvailable, str]],
    ) -> StreamEntry: ...


class NodeLink(Protocol):
    """What the hub needs of its node (``node.ClusterNode``)."""

    async def claim(self, name: str) -> int:
        """0: a live node has ``name``; 1: taken; 2: taken from a dead node."""
        ...

    def release(self, name: str) -> None: ...

    def catch_up(self) -> None: ...

    async def login_refusal(self, name: str, address: str, registering: bool) -> str | None:
        """The ``rate-limited`` message for this login, counted on every node."""
        ...

    def presence_changed(self, name: str, state: PresenceState) -> None: ...

    def grace_over(self, name: str) -> None: ...

    def committed(self, entry: StreamEntry) -> None: ...


TAKEN_FROM_DEAD = 2
#: A refused claim is tried this many times, this many seconds apart (``_claim``).
CLAIM_TRIES = 6
CLAIM_RETRY_DELAY = 0.05
#: Seconds between two warnings of logins refused while Redis is away.
UNCLAIMED_WARNING_PERIOD = 10.0

#: Origins of this node's entries, waiting for their turn in the stream.
Origins = tuple[list[Session], list[Session]]


class ClusterHub(Hub):
    def __init__(
        self, config: ServerConfig, store: SequencingStore, bus: Bus,
    ) -> None:
        super().__init__(config, store, bus)
        self.sequencing_store = store
        self.participants.max_deactivated = None  # Redis evicts (module docstring)
        self.link: NodeLink | None = None
        self._origins: dict[int, Origins] = {}
        self._claiming: set[str] = set()
        #: Chat messages taken per user since the last report to the other nodes.
        self.spent: Counter[str] = Counter()
        #: Logins refused for want of Redis since the last warning, and when
        #: the next may be logged: one line per outage and period, not per try.
        self._unclaimed = 0
        self._next_unclaimed_warning = 0.0

    # -- login -----------------------------------------------------------------------

    async def login(self, client: Session, login: Login | TransientLogin) -> None:
        if self.link is None or username_problem(login.username) is not None:
            await super().login(client, login)  # an invalid name is refused as on one node
            return
        if await self._blocked(client, login.username):
            return
        if isinstance(login, TransientLogin):
            await super().login(client, login)
            return
        skeleton = username_skeleton(login.username)
        registered = self.accounts.registered(login.username)
        if skeleton in self._claiming or (registered is not None and registered in self.sessions):
            await super().login(client, login)  # refused as already-active, as on one node
            return
        self._claiming.add(skeleton)
        try:
            await self._claimed_login(client, login)
        finally:
            self._claiming.discard(skeleton)

    def _warn_unclaimed(self, name: str, exc: Exception) -> None:
        """Log a login refused because Redis cannot say where the user is: the
        first at once, then one line per ``UNCLAIMED_WARNING_PERIOD`` with the
        count (clients retry, and a script retrying every 50 ms would
        otherwise fill the log)."""
        self._unclaimed += 1
        now = asyncio.get_running_loop().time()
        if now < self._next_unclaimed_warning:
            return
        since = self._unclaimed - 1
        more = f"; {since} more since the last such line" if since else ""
        log.warning("login of %s refused: where it is logged in is unknown (%s)%s",
                    peer_quoted(name), failure_line(exc), more)
        self._unclaimed = 0
        self._next_unclaimed_warning = now + UNCLAIMED_WARNING_PERIOD

    async def _claimed_login(self, client: Session, login: Login) -> None:
        assert self.link is not None
        name = login.username
        try:
            claimed = await self._claim(name)
        except Exception as exc:
            self._warn_unclaimed(name, exc)
            self._refuse(client, "the cluster cannot tell where you are logged in just now; "
                                 "try again in a moment")
            return
        if not claimed:
            log.info("login refused for %s from %s: active on another node",
                     peer_quoted(name), client.address)
            self._refuse(client, f"{name} is connected right now")
            return
        if claimed == TAKEN_FROM_DEAD:
            registered = self.accounts.registered(name) or name
            if registered in self.participants:
                self.participants.deactivate(registered)  # so this login is a rejoin
        if self.accounts.registered(name) is None:
            # Registered on another node a moment ago, its entry not here yet?
            account = self.store.account(name)
            if account is not None:
                self.accounts.add(account.name)
        admission = await self.logins.check(client, login)
        if admission is None or client.closed:
            self.link.release(name)
            return
        seen = login.last_seen_seq
        if self.store.last_seq < seen != SKIP_REPLAY and login.epoch in (0, self.store.epoch):
            # Seen on a node that was ahead of this one: catch up first, so
            # the seq is not taken for another history's (history.replay_start).
            self.link.catch_up()
        self._admit(client, admission, login)

    async def _blocked(self, client: Session, name: str) -> bool:
        """Refused as ``rate-limited`` for the failed logins or the
        registrations of every node (each node also keeps its own counts, as
        a single node does)."""
        assert self.link is not None
        registering = self.accounts.registered(name) is None
        try:
            refusal = await self.link.login_refusal(name, client.address, registering)
        except Exception as exc:  # Redis away: each node's own limit still holds
            log.debug("login counts across nodes unknown: %s", failure_line(exc))
            return False
        if refusal is not None:
            log.info("login refused for %s from %s: rate-limited across the cluster (%s)",
                     peer_quoted(name), client.address, refusal)
            client.login_refused(LoginRejected(LoginRejectReason.RATE_LIMITED.value, refusal))
        return refusal is not None

    async def _claim(self, name: str) -> int:
        """Claim ``name``; refused, try a few more times for a moment: a user
        who just said goodbye on another node is released there a few
        milliseconds after their connection closed, and one node never
        refuses a login right after a goodbye."""
        assert self.link is not None
        for _ in range(CLAIM_TRIES - 1):
            claimed = await self.link.claim(name)
            if claimed:
                return claimed
            await asyncio.sleep(CLAIM_RETRY_DELAY)
        return await self.link.claim(name)

    def _refuse(self, client: Session, message: str) -> None:
        client.login_refused(LoginRejected(LoginRejectReason.ALREADY_ACTIVE.value, message))

    # -- presence ----------------------------------------------------------------------

    def _announce(self, name: str, state: PresenceState) -> None:
        if self.link is None:
            super()._announce(name, state)
        else:
            self.link.presence_changed(name, state)

    def _evicted(self, names: list[str]) -> None:
        """Nothing is evicted from a mirror (see the module's docstring)."""

    def _leave_after_grace(self, name: str) -> None:
        """``--deactivated-grace`` is over: Redis decides, in one script, since
        the user may be back on another node by now."""
        if self.link is None:
            super()._leave_after_grace(name)
        else:
            self.link.grace_over(name)

    def deactivated_by_sweep(self, names: list[str]) -> None:
        """Users of a dead node this node's sweep deactivated: their grace
        runs here, as if they had been this node's."""
        for name in names:
            self._start_grace(name)

    def remote_presence(self, name: str, state: PresenceState, count: int, node: str) -> None:
        """A presence change as Redis ordered it (this node's own ones too)."""
        participants = self.participants
        if state is PresenceState.LEFT:
            participants.remove(name)
        elif state is PresenceState.DEACTIVATED:
            participants.deactivate(name)
        else:
            participants.activate(name)
        if name not in self.sessions or state in (PresenceState.JOINED, PresenceState.REJOINED):
            log.debug("%s %s on node %s %s", name, state.value, node, count_phrase(count))
        self.bus.announce(Presence(name, state, count))

    # -- flood limits across nodes ------------------------------------------------

    def submit_chat(self, client: Session, chat: SendChat) -> None:
        if client.username is not None:
            self.spent[client.username] += 1  # reported to the others (node.py)
        super().submit_chat(client, chat)

    def spent_elsewhere(self, name: str, count: int) -> None:
        """``name`` sent ``count`` messages through other nodes: its bucket
        here pays for them, so the flood limit is the user's, cluster-wide."""
        bucket = self.floods.bucket(name)
        if bucket is not None:
            bucket.debit(count, asyncio.get_running_loop().time())

    # -- commit and the stream -------------------------------------------------------

    def _commit_batch(
        self, chats: list[PendingChat], files: list[PendingFile], timestamp: int
    ) -> None:
        if self.link is None:
            super()._commit_batch(chats, files, timestamp)
            return
        # Provisional numbers: the store numbers the batch under its counter.
        rows: list[ChatRow] = [
            (0, timestamp, sender, chat.recipient, chat.client_id, chat.text)
            for chat, sender, _ in chats
        ]
        announcements = [
            (announced_as(pending, 0, timestamp, 0), stored) for pending, stored, _ in files
        ]
        try:
            entry = self.sequencing_store.commit_entries(rows, announcements)
        except Exception as exc:  # refused, never acknowledged: nothing is lost unseen
            log.error("could not store %d entries (%s); their senders are told",
                      len(rows) + len(files), failure_line(exc))
            self._refuse_unstored(chats, files)
            return
        self._origins[entry.id] = (
            [origin for _, _, origin in chats], [origin for _, _, origin in files]
        )
        self.link.committed(entry)

    def apply(self, entry: StreamEntry) -> None:
        """One entry of the stream, in id order (``stream.StreamApplier``)."""
        if entry.kind == "entries":
            self._apply_entries(entry)
        elif entry.kind == "account":
            name = str(entry.data["name"])
            if self.accounts.registered(name) is None:
                self.accounts.add(name)
        else:
            self.rooms.replicate(entry.kind, entry.data)

    def _apply_entries(self, entry: StreamEntry) -> None:
        store = self.store
        store.last_seq = max(store.last_seq, entry.last_seq)
        if entry.files:
            store.last_file_id = max(store.last_file_id, *(f.file_id for f in entry.files))
        origins = self._origins.pop(entry.id, None)
        if origins is not None and (
            len(origins[0]) != len(entry.rows) or len(origins[1]) != len(entry.files)
        ):
            log.error("stream entry %d does not match its batch; delivered as remote", entry.id)
            origins = None
        for index, (seq, ts, sender, recipient, client_id, text) in enumerate(entry.rows):
            message = ChatMessage(seq, ts, client_id, sender, recipient, text)
            if origins is None:
                self._bus_deliver(message, sender, recipient)
            else:
                self._deliver(message, sender, recipient, origins[0][index])
        for index, announcement in enumerate(entry.files):
            if origins is None:
                # The upload id is the uploading connection's, on another node.
                shown = attrs.evolve(announcement, upload_id=0)
                self._bus_deliver(shown, shown.sender, shown.recipient)
            else:
                self._deliver(announcement, announcement.sender, announcement.recipient,
                              origins[1][index])

    def close(self) -> None:
        self._origins.clear()
        super().close()

