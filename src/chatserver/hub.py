"""The shared state of the chat: who is logged in, presence, and committing
the history.

Everything here runs on the event loop thread. Chat messages that arrive in
one loop turn are committed in one transaction, then handed to the bus,
which delivers each to its audience (``fanout.Fanout``: encoded once, and
one write per connection per turn). The hub reaches storage and delivery
only through ``ports.Store`` and ``ports.Bus``, and its connections through
``sessions.Session``; logging in is checked by ``login.Logins``.

A transient login (docs/protocol.md 7.9) is admitted without presence: it is
not in ``sessions`` nor in the participant list, and it is not on the bus
(it takes no broadcast). What it sends is committed and delivered as anyone's;
its own connection, the entry's *origin*, gets the echo straight from here.
"""

from __future__ import annotations

import asyncio

import attrs

from chatproto import (
    ChatMessage,
    ChatRejected,
    FileAvailable,
    Login,
    LoginAccepted,
    Presence,
    PresenceState,
    RejectReason,
    SendChat,
    TransientLogin,
    is_room_target,
    username_skeleton,
)

from .accounts import AccountNames
from .config import ServerConfig
from .history import replay_start
from .log import log
from .login import Admission, Logins
from .per_user import SharedFloods, TransientLogins
from .ports import Bus, ChatRow, Store, now_ms
from .presence import Participants, count_phrase
from .room_requests import RoomRequests
from .rooms import RoomRegistry
from .sessions import Session

# The pending-entry types and helpers are re-exported: ``cluster.hub`` takes
# them from here.
from .store_fallback import PendingChat as PendingChat
from .store_fallback import PendingFile as PendingFile
from .store_fallback import announced_as as announced_as
from .store_fallback import failure_line as failure_line
from .store_fallback import refuse_unstored, store_one_by_one

#: Most chat messages (and characters of text) committed in one transaction,
#: that is in one loop turn: bounds the loop's pause and each connection's
#: output per turn.
MAX_BATCH = 4096
MAX_BATCH_CHARS = 1_048_576


def _batch_end(chats: list[PendingChat]) -> int:
    """How many of the pending ``chats`` go into this turn's batch."""
    chars = 0
    for index, (chat, _, _) in enumerate(chats[:MAX_BATCH]):
        chars += len(chat.text)
        if chars > MAX_BATCH_CHARS:
            return max(index, 1)
    return min(len(chats), MAX_BATCH)


class Hub:
    def __init__(self, config: ServerConfig, store: Store, bus: Bus) -> None:
        self.config = config
        self.store = store
        self.bus = bus
        #: Every account's name. Password hashes stay in the database (read
        #: at login): 10,000 users' hashes would be 2 MB of RAM for nothing.
        self.accounts = AccountNames(store.account_names())
        self.participants = Participants(config.max_deactivated)
        #: Logged-in users and their connection (transient logins are not here).
        self.sessions: dict[str, Session] = {}
        self.transients = TransientLogins()
        #: The flood limit is the user's, whatever the number of its connections.
        self.floods = SharedFloods(config.flood_rate, config.flood_burst)
        self.logins = Logins(
            config, store, self.accounts, self.sessions, self.participants, self.transients
        )
        #: The rooms besides general, held in memory: delivery reads them on
        #: every room message (rooms.py); requests change them (room_requests.py).
        self.rooms = RoomRegistry(config, store.rooms(), store.room_members())
        self.requests = RoomRequests(self.rooms, store, bus, self.accounts)
        self._grace_timers: dict[str, asyncio.TimerHandle] = {}
        self._chats: list[PendingChat] = []
        self._files: list[PendingFile] = []
        self._flush_scheduled = False

    @property
    def last_seq(self) -> int:
        return self.store.last_seq

    # -- login -------------------------------------------------------------------

    async def login(self, client: Session, login: Login | TransientLogin) -> None:
        """Answer ``login`` on ``client``: accept it (and replay), or refuse it."""
        admission = await self.logins.check(client, login)
        if admission is None:
            return
        if isinstance(login, TransientLogin):
            self._admit_transient(client, admission)
        else:
            self._admit(client, admission, login)

    def _admit_transient(self, client: Session, admission: Admission) -> None:
        """The participant list as it is (without this login), and nothing
        more: no presence, no replay, no resume token."""
        name = admission.account.name
        first, *rest = self.participants.pages(client.peer_max_frame_size)
        accepted = LoginAccepted(
            name, admission.new_account, False, self.store.last_seq, first, self.store.epoch,
            False, len(self.participants),
        )
        client.login_accepted(accepted, rest)
        log.info("%s logged in transiently from %s (%d of %d)", name, client.address,
                 self.transients.count(username_skeleton(name)), self.transients.limit)

    def _admit(self, client: Session, admission: Admission, login: Login) -> None:
        account = admission.account
        name = account.name
        self._cancel_grace(name)
        state, evicted = self.participants.activate(name)
        self.sessions[name] = client
        replay_after, history_reset = replay_start(login, account, self.store)
        first, *rest = self.participants.pages(client.peer_max_frame_size)
        accepted = LoginAccepted(
            name,
            admission.new_account,
            state is PresenceState.REJOINED,
            self.store.last_seq,
            first,
            self.store.epoch,
            history_reset,
            len(self.participants),
            self.logins.next_resume_token(admission),
        )
        client.login_accepted(accepted, rest)
        self._evicted(evicted)
        log.info("%s %s %s", name, state.value, count_phrase(len(self.participants)))
        self._announce(name, state)
        client.start_replay(replay_after)

    # -- presence --------------------------------------------------------------

    def session_ended(self, client: Session, *, left: bool, reason: str = "") -> None:
        """``client``'s logged-in session is over: a normal exit or a deactivation."""
        name = client.username
        if client in self.transients:
            self.transients.release(client)  # a transient login: no presence to change
            if name is not None:
                self.floods.leave(name, client)
                log.info("%s's transient login from %s ended", name, client.address)
            return
        if name is not None:
            self.floods.leave(name, client)
        if name is None or self.sessions.get(name) is not client:
            return
        del self.sessions[name]
        if left:
            self._leave(name)
            return
        evicted = self.participants.deactivate(name)
        log.info("%s deactivated: %s %s", name, reason, count_phrase(len(self.participants)))
        self._announce(name, PresenceState.DEACTIVATED)
        self._evicted(evicted)
        self._start_grace(name)

    def _start_grace(self, name: str) -> None:
        """``name`` was deactivated: after ``--deactivated-grace``, if set, it leaves."""
        grace = self.config.deactivated_grace
        if grace is not None:
            self._cancel_grace(name)
            loop = asyncio.get_running_loop()
            self._grace_timers[name] = loop.call_later(grace, self._grace_over, name)

    def _cancel_grace(self, name: str) -> None:
        timer = self._grace_timers.pop(name, None)
        if timer is not None:
            timer.cancel()

    def _evicted(self, names: list[str]) -> None:
        """Deactivated users let go to keep the participant list bounded."""
        for name in names:
            self._cancel_grace(name)
            log.info("%s left: deactivated longest, to keep the participant list bounded %s",
                     name, count_phrase(len(self.participants)))
            self._announce(name, PresenceState.LEFT)

    def _grace_over(self, name: str) -> None:
        self._grace_timers.pop(name, None)
        if self.participants.is_deactivated(name):
            self._leave_after_grace(name)

    def _leave_after_grace(self, name: str) -> None:
        self._leave(name)

    def _leave(self, name: str) -> None:
        self.participants.remove(name)
        log.info("%s left %s", name, count_phrase(len(self.participants)))
        self._announce(name, PresenceState.LEFT)

    def _announce(self, name: str, state: PresenceState) -> None:
        self.bus.announce(Presence(name, state, len(self.participants)))

    # -- chat and file announcements --------------------------------------------

    def submit_chat(self, client: Session, chat: SendChat) -> None:
        sender = client.username
        assert sender is not None
        if is_room_target(chat.recipient):
            assert chat.recipient is not None
            target = self.rooms.target_for(sender, chat.recipient)
            if not isinstance(target, str):
                client.queue(ChatRejected(chat.client_id, *target))
                return
            if target != chat.recipient:  # "#Dev" is #dev, shown as created
                chat = attrs.evolve(chat, recipient=target)
        elif chat.recipient is not None:
            recipient = self.accounts.registered(chat.recipient)
            if recipient is None:
                client.queue(
                    ChatRejected(chat.client_id, RejectReason.UNKNOWN_USER, "no such user")
                )
                return
            if recipient != chat.recipient:  # "BOB" is bob, shown as registered
                chat = attrs.evolve(chat, recipient=recipient)
        self._chats.append((chat, sender, client))
        self._schedule_flush()

    def submit_file(self, announcement: FileAvailable, stored_name: str, origin: Session) -> None:
        """Queue a verified upload of ``origin``; seq and file id are filled in at commit."""
        self._files.append((announcement, stored_name, origin))
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Commit everything pending in one transaction, then deliver it.

        If the batch cannot be committed, each entry is committed on its own
        (``store_fallback.store_one_by_one``): an entry that fails takes no
        other with it, and its sender is told."""
        self._flush_scheduled = False
        cut = _batch_end(self._chats)
        chats, self._chats = self._chats[:cut], self._chats[cut:]
        if self._chats:  # the rest next turn, so one flood cannot hold the loop long
            self._schedule_flush()
        files, self._files = self._files, []
        if not chats and not files:
            return
        self._commit_batch(chats, files, now_ms())

    def _commit_batch(
        self, chats: list[PendingChat], files: list[PendingFile], timestamp: int
    ) -> None:
        """Number this turn's batch from the store's last seq, commit it, deliver it
        (the cluster's hub commits and delivers another way: ``cluster.hub``)."""
        first = self.store.last_seq + 1
        # The rows straight from the batch: no pass over ChatMessage objects.
        rows: list[ChatRow] = [
            (seq, timestamp, sender, chat.recipient, chat.client_id, chat.text)
            for seq, (chat, sender, _) in enumerate(chats, first)
        ]
        origins = [origin for _, _, origin in chats]
        seq = first + len(rows) - 1
        announcements: list[tuple[FileAvailable, str]] = []
        file_id = self.store.last_file_id
        for pending, stored_name, _ in files:
            seq += 1
            file_id += 1
            announcements.append((announced_as(pending, seq, timestamp, file_id), stored_name))
        file_origins = [origin for _, _, origin in files]
        try:
            self.store.commit(rows, announcements)
        except Exception as exc:  # whatever it was: the entries must not be lost with it
            log.error(
                "could not store %d entries at once (%s); storing them one by one",
                len(rows) + len(files), failure_line(exc),
            )
            rows, origins, announcements, file_origins = store_one_by_one(
                self.store, chats, files, timestamp
            )
        else:
            self.store.last_seq = seq
            self.store.last_file_id = file_id
        for (row_seq, ts, sender, recipient, client_id, text), origin in zip(
            rows, origins, strict=True
        ):
            message = ChatMessage(row_seq, ts, client_id, sender, recipient, text)
            self._deliver(message, sender, recipient, origin)
        for (announcement, _), origin in zip(announcements, file_origins, strict=True):
            self._deliver(announcement, announcement.sender, announcement.recipient, origin)

    def _refuse_unstored(self, chats: list[PendingChat], files: list[PendingFile]) -> None:
        # Kept as a method: the cluster's hub refuses a batch its store refused.
        refuse_unstored(chats, files)

    def _deliver(
        self, entry: ChatMessage | FileAvailable, sender: str, recipient: str | None,
        origin: Session,
    ) -> None:
        transient = origin.transient
        for_others = None
        if isinstance(entry, FileAvailable) and entry.upload_id:
            # The upload id is the uploader's own: everyone else gets 0, so no
            # client can take it for one of its uploads (docs/protocol.md).
            for_others = attrs.evolve(entry, upload_id=0)
            if not transient:
                self._note_for_replay(entry, sender)
        if transient:
            # Its connection is not on the bus: the echo (with its upload id)
            # goes to it alone, and the user's session, if any, gets what
            # everyone gets, as from any other connection of another user.
            self._bus_deliver(entry if for_others is None else for_others, sender, recipient)
            origin.queue(entry)
            return
        self._bus_deliver(entry, sender, recipient, for_others)

    def _bus_deliver(
        self, entry: ChatMessage | FileAvailable, sender: str, recipient: str | None,
        for_others: ChatMessage | FileAvailable | None = None,
    ) -> None:
        if is_room_target(recipient):
            assert recipient is not None
            members = self.rooms.members(recipient)
            # The sender gets its echo even if it left the room since sending.
            names = members if sender in members else [*members, sender]
            self.bus.deliver_to(entry, sender, names, for_others)
        else:
            self.bus.deliver(entry, sender, recipient, for_others)

    def _note_for_replay(self, announcement: FileAvailable, sender: str) -> None:
        """An uploader still replaying gets its announcement through the replay."""
        uploader = self.sessions.get(sender)
        if uploader is not None and not uploader.live:
            uploader.announced_in_replay(announcement)

    # -- shutdown ----------------------------------------------------------------

    def close(self) -> None:
        for timer in self._grace_timers.values():
            timer.cancel()
        self._grace_timers.clear()
        self.logins.close()
