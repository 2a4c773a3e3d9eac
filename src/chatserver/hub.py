"""The shared state of the chat: sessions, presence, history batching, fan-out.

Everything here runs on the event loop thread. Chat messages that arrive in
one loop turn are committed to SQLite in one transaction, then each is
encoded once (``chatproto.prepare``) and queued on every receiver; each
connection's output is written with one ``write`` per loop turn.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import attrs

from chatproto import (
    STATE_NEUTRAL_BROADCASTS,
    ChatMessage,
    ChatRejected,
    Event,
    FileAvailable,
    Login,
    LoginAccepted,
    LoginRejected,
    LoginRejectReason,
    PreparedEvent,
    Presence,
    PresenceState,
    RejectReason,
    SendChat,
    prepare,
    username_problem,
    username_skeleton,
)
from chatproto.limits import HEADER_SIZE, MIN_FRAME_SIZE, SKIP_REPLAY

from .accounts import AccountNames, FailureLimiter, hash_password, verify_password
from .config import ServerConfig
from .log import log, peer_quoted
from .presence import Participants, count_phrase
from .store import Account, ChatRow, Store

if TYPE_CHECKING:
    from .client import ClientProtocol
    from .output import BufferedOutput


#: Most chat messages (and characters of text) committed in one transaction,
#: that is in one loop turn: bounds the loop's pause and each connection's
#: output per turn.
MAX_BATCH = 4096
MAX_BATCH_CHARS = 1_048_576

#: Password hashes computed at once. Each scrypt hash takes 16 MiB (n=2**14,
#: r=8) and a core: more at once only adds memory (the default executor ran
#: up to 6, 100 MB) while logins wait just as long.
HASH_THREADS = 2

#: Every peer accepts frames of MIN_FRAME_SIZE, so a frame this size or
#: smaller needs no check against the peer's announced limit.
_ALWAYS_FITS = MIN_FRAME_SIZE + HEADER_SIZE


def _batch_end(chats: list[tuple[SendChat, str]]) -> int:
    """How many of the pending ``chats`` go into this turn's batch."""
    chars = 0
    for index, (chat, _) in enumerate(chats[:MAX_BATCH]):
        chars += len(chat.text)
        if chars > MAX_BATCH_CHARS:
            return max(index, 1)
    return min(len(chats), MAX_BATCH)


def _broadcast_bytes(prepared: PreparedEvent) -> bytes | None:
    """The bytes of ``prepared`` if they may go to any live connection without
    ``send``: the event changes no state (``STATE_NEUTRAL_BROADCASTS``) and its
    frame fits every peer's frame limit. ``None``: use ``queue``."""
    if type(prepared.event) not in STATE_NEUTRAL_BROADCASTS:
        return None
    if len(prepared.data) > _ALWAYS_FITS:
        return None
    return prepared.data


def _final(pending: FileAvailable, seq: int, timestamp: int, file_id: int) -> FileAvailable:
    """A verified upload's announcement, with its place in history."""
    return FileAvailable(
        seq, timestamp, file_id, pending.sender, pending.recipient, pending.name,
        pending.size, pending.sha256, pending.upload_id,
    )


def _failure(exc: Exception) -> str:
    """One line for the log: what went wrong, no traceback."""
    return f"{type(exc).__name__}: {exc}"


def _user_at(name: str, address: str) -> str:
    """The key of failed logins: one per account (whatever the spelling) and address."""
    return f"{username_skeleton(name)}@{address}"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Hub:
    def __init__(self, config: ServerConfig, store: Store) -> None:
        self.config = config
        self.store = store
        #: Every account's name. Password hashes stay in the database (read
        #: at login): 10,000 users' hashes would be 2 MB of RAM for nothing.
        self.accounts = AccountNames(store.account_names())
        self.participants = Participants(config.max_deactivated)
        #: Logged-in users and their connection.
        self.sessions: dict[str, ClientProtocol] = {}
        self._logging_in: set[str] = set()
        self._grace_timers: dict[str, asyncio.TimerHandle] = {}
        self._failed_by_user = FailureLimiter(
            config.max_failed_logins_per_user, config.failed_login_window
        )
        self._failed_by_address = FailureLimiter(
            config.max_failed_logins_per_address, config.failed_login_window
        )
        self._registrations = FailureLimiter(
            config.max_registrations_per_address, config.registration_window
        )
        self._chats: list[tuple[SendChat, str]] = []
        self._files: list[tuple[FileAvailable, str]] = []
        self._flush_scheduled = False
        self._dirty: dict[BufferedOutput, None] = {}
        self._output_scheduled = False
        #: This turn's broadcast frames, for every live connection (output.py).
        self._broadcasts: list[bytes] = []
        self.broadcast_size = 0
        self._joined: bytes = b""
        self._hashing = ThreadPoolExecutor(HASH_THREADS, thread_name_prefix="password-hash")

    @property
    def last_seq(self) -> int:
        return self.store.last_seq

    # -- login -------------------------------------------------------------------

    async def login(self, client: ClientProtocol, login: Login) -> None:
        """Answer ``login`` on ``client``: accept it (and replay), or refuse it."""
        name = login.username
        reason = self._refusal(name, client.address)
        if reason is not None:
            self._reject(client, name, reason)
            return
        # The account this name means (``Bob`` for ``bob``), or the name to register.
        registered = self.accounts.registered(name)
        now = asyncio.get_running_loop().time()
        if registered is None and self._registrations.blocked(client.address, now):
            self._reject(client, name, LoginRejectReason.RATE_LIMITED,
                         "too many new accounts from your address, try again later")
            return
        name = registered or name
        skeleton = username_skeleton(name)
        self._logging_in.add(skeleton)
        try:
            account, new_account = await self._authenticate(name, login.password)
        finally:
            self._logging_in.discard(skeleton)
        if new_account:
            self._registrations.record(client.address, asyncio.get_running_loop().time())
        if account is None:
            now = asyncio.get_running_loop().time()
            self._failed_by_user.record(_user_at(name, client.address), now)
            self._failed_by_address.record(client.address, now)
            self._reject(client, name, LoginRejectReason.BAD_PASSWORD)
            return
        if client.closed:
            return
        self._failed_by_user.forget(_user_at(name, client.address))
        self._admit(client, account, new_account, login)

    def _refusal(self, name: str, address: str) -> LoginRejectReason | None:
        if username_problem(name) is not None:
            return LoginRejectReason.INVALID_NAME
        now = asyncio.get_running_loop().time()
        if self._failed_by_user.blocked(
            _user_at(name, address), now
        ) or self._failed_by_address.blocked(address, now):
            return LoginRejectReason.RATE_LIMITED
        registered = self.accounts.registered(name)
        if registered in self.sessions or username_skeleton(name) in self._logging_in:
            return LoginRejectReason.ALREADY_ACTIVE
        if registered not in self.participants and self.participants.full:
            return LoginRejectReason.SERVER_FULL  # MAX_PARTICIPANTS users, all active
        return None

    async def _authenticate(self, name: str, password: str) -> tuple[Account | None, bool]:
        """The account, created if new; ``(None, False)`` for a wrong password."""
        loop = asyncio.get_running_loop()
        account = self.store.account(name) if name in self.accounts else None
        if account is None:
            hashed = await loop.run_in_executor(
                self._hashing, hash_password, password, self.config.scrypt_n
            )
            account = Account(name, hashed, self.store.last_seq)
            self.store.create_account(account, now_ms())
            self.accounts.add(name)
            return account, True
        ok = await loop.run_in_executor(
            self._hashing, verify_password, password, account.password_hash
        )
        return (account if ok else None), False

    def _reject(
        self, client: ClientProtocol, name: str, reason: LoginRejectReason, message: str = ""
    ) -> None:
        # An invalid name may hold newlines or terminal escapes: log it escaped.
        shown = peer_quoted(name) if reason is LoginRejectReason.INVALID_NAME else name
        log.info("login refused for %s from %s: %s", shown, client.address, reason.value)
        messages = {
            LoginRejectReason.ALREADY_ACTIVE: f"{name} is connected right now",
            LoginRejectReason.BAD_PASSWORD: "wrong password",
            LoginRejectReason.INVALID_NAME: "invalid user name",
            LoginRejectReason.RATE_LIMITED: "too many failed logins, try again later",
            LoginRejectReason.SERVER_FULL: "the server has too many participants",
        }
        text = message or messages.get(reason, "")
        client.login_refused(LoginRejected(reason.value, text))

    def _admit(
        self, client: ClientProtocol, account: Account, new_account: bool, login: Login
    ) -> None:
        name = account.name
        timer = self._grace_timers.pop(name, None)
        if timer is not None:
            timer.cancel()
        state, evicted = self.participants.activate(name)
        self.sessions[name] = client
        replay_after, history_reset = self._replay_start(login, account)
        first, *rest = self.participants.pages(client.conn.peer_max_frame_size)
        accepted = LoginAccepted(
            name,
            new_account,
            state is PresenceState.REJOINED,
            self.store.last_seq,
            first,
            self.store.epoch,
            history_reset,
            len(self.participants),
        )
        client.login_accepted(accepted, rest, replay_after)
        self._evicted(evicted)
        log.info("%s %s %s", name, state.value, count_phrase(len(self.participants)))
        self._broadcast_presence(name, state)

    def _replay_start(self, login: Login, account: Account) -> tuple[int, bool]:
        """After which seq to replay, and whether the client's seq belongs to
        another history (docs/protocol.md, the epoch): then all of it."""
        store = self.store
        other_history = login.epoch not in (0, store.epoch)
        if login.last_seen_seq == SKIP_REPLAY:
            return SKIP_REPLAY, other_history
        if other_history or login.last_seen_seq > store.last_seq:
            return account.created_seq, True
        return max(login.last_seen_seq, account.created_seq), False

    # -- presence --------------------------------------------------------------

    def session_ended(self, client: ClientProtocol, *, left: bool, reason: str = "") -> None:
        """``client``'s logged-in session is over: a normal exit or a deactivation."""
        name = client.username
        if name is None or self.sessions.get(name) is not client:
            return
        del self.sessions[name]
        if left:
            self._leave(name)
            return
        evicted = self.participants.deactivate(name)
        log.info("%s deactivated: %s %s", name, reason, count_phrase(len(self.participants)))
        self._broadcast_presence(name, PresenceState.DEACTIVATED)
        self._evicted(evicted)
        grace = self.config.deactivated_grace
        if grace is not None:
            loop = asyncio.get_running_loop()
            self._grace_timers[name] = loop.call_later(grace, self._grace_over, name)

    def _evicted(self, names: list[str]) -> None:
        """Deactivated users let go to keep the participant list bounded."""
        for name in names:
            timer = self._grace_timers.pop(name, None)
            if timer is not None:
                timer.cancel()
            log.info("%s left: deactivated longest, to keep the participant list bounded %s",
                     name, count_phrase(len(self.participants)))
            self._broadcast_presence(name, PresenceState.LEFT)

    def _grace_over(self, name: str) -> None:
        self._grace_timers.pop(name, None)
        if self.participants.is_deactivated(name):
            self._leave(name)

    def _leave(self, name: str) -> None:
        self.participants.remove(name)
        log.info("%s left %s", name, count_phrase(len(self.participants)))
        self._broadcast_presence(name, PresenceState.LEFT)

    def _broadcast_presence(self, name: str, state: PresenceState) -> None:
        prepared = prepare(Presence(name, state, len(self.participants)))
        data = _broadcast_bytes(prepared)
        if data is not None:
            self._broadcast(data)
        for session in self.sessions.values():
            if data is None or not session.live:
                session.queue(prepared)

    # -- chat and file announcements --------------------------------------------

    def submit_chat(self, client: ClientProtocol, chat: SendChat) -> None:
        sender = client.username
        assert sender is not None
        if chat.recipient is not None:
            recipient = self.accounts.registered(chat.recipient)
            if recipient is None:
                client.queue(
                    ChatRejected(chat.client_id, RejectReason.UNKNOWN_USER, "no such user")
                )
                return
            if recipient != chat.recipient:  # "BOB" is bob, shown as registered
                chat = attrs.evolve(chat, recipient=recipient)
        self._chats.append((chat, sender))
        self._schedule_flush()

    def submit_file(self, announcement: FileAvailable, stored_name: str) -> None:
        """Queue a verified upload; seq and file id are filled in at commit."""
        self._files.append((announcement, stored_name))
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Commit everything pending in one transaction, then deliver it.

        If the batch cannot be committed, each entry is committed on its own
        (``_store_one_by_one``): an entry that fails takes no other with it,
        and its sender is told (``_refuse_unstored``)."""
        self._flush_scheduled = False
        cut = _batch_end(self._chats)
        chats, self._chats = self._chats[:cut], self._chats[cut:]
        if self._chats:  # the rest next turn, so one flood cannot hold the loop long
            self._schedule_flush()
        files, self._files = self._files, []
        if not chats and not files:
            return
        timestamp = now_ms()
        first = self.store.last_seq + 1
        # The rows straight from the batch: no pass over ChatMessage objects.
        rows: list[ChatRow] = [
            (seq, timestamp, sender, chat.recipient, chat.client_id, chat.text)
            for seq, (chat, sender) in enumerate(chats, first)
        ]
        seq = first + len(rows) - 1
        announcements: list[tuple[FileAvailable, str]] = []
        file_id = self.store.last_file_id
        for pending, stored_name in files:
            seq += 1
            file_id += 1
            announcements.append((_final(pending, seq, timestamp, file_id), stored_name))
        try:
            self.store.commit(rows, announcements)
        except Exception as exc:  # whatever it was: the entries must not be lost with it
            log.error(
                "could not store %d entries at once (%s); storing them one by one",
                len(rows) + len(files), _failure(exc),
            )
            rows, announcements = self._store_one_by_one(chats, files, timestamp)
        else:
            self.store.last_seq = seq
            self.store.last_file_id = file_id
        for row_seq, ts, sender, recipient, client_id, text in rows:
            message = ChatMessage(row_seq, ts, client_id, sender, recipient, text)
            self._deliver(message, sender, recipient)
        for announcement, _ in announcements:
            self._deliver(announcement, announcement.sender, announcement.recipient)

    def _store_one_by_one(
        self, chats: list[tuple[SendChat, str]], files: list[tuple[FileAvailable, str]],
        timestamp: int,
    ) -> tuple[list[ChatRow], list[tuple[FileAvailable, str]]]:
        """Commit each entry in its own transaction, taking the next seq (and
        file id) only when it is stored, so history stays gapless; refuse the
        entries that fail. Returns the rows and announcements stored."""
        store = self.store
        rows: list[ChatRow] = []
        announcements: list[tuple[FileAvailable, str]] = []
        failed_chats: list[tuple[SendChat, str]] = []
        failed_files: list[tuple[FileAvailable, str]] = []
        failure: Exception | None = None
        for chat, sender in chats:
            row = (store.last_seq + 1, timestamp, sender, chat.recipient, chat.client_id, chat.text)
            try:
                store.commit((row,), ())
            except Exception as exc:
                failed_chats.append((chat, sender))
                failure = failure or exc
                continue
            store.last_seq += 1
            rows.append(row)
        for pending, stored_name in files:
            final = _final(pending, store.last_seq + 1, timestamp, store.last_file_id + 1)
            try:
                store.commit((), ((final, stored_name),))
            except Exception as exc:
                failed_files.append((pending, stored_name))
                failure = failure or exc
                continue
            store.last_seq += 1
            store.last_file_id += 1
            announcements.append((final, stored_name))
        if failure is not None:
            log.error(
                "could not store %d of %d entries (%s); their senders are told",
                len(failed_chats) + len(failed_files), len(chats) + len(files),
                _failure(failure),
            )
            self._refuse_unstored(failed_chats, failed_files)
        return rows, announcements

    def _refuse_unstored(
        self, chats: list[tuple[SendChat, str]], files: list[tuple[FileAvailable, str]]
    ) -> None:
        """Tell senders these messages and uploads were not stored (nor delivered)."""
        for chat, sender in chats:
            session = self.sessions.get(sender)
            if session is not None:
                session.queue(
                    ChatRejected(chat.client_id, RejectReason.SERVER_ERROR, "not stored")
                )
        for pending, _ in files:
            session = self.sessions.get(pending.sender)
            if session is not None:
                session.file_unstored(pending.upload_id)

    def _deliver(self, event: Event, sender: str, recipient: str | None) -> None:
        prepared = others = prepare(event)
        if isinstance(event, FileAvailable) and event.upload_id:
            # The upload id is the uploader's own: everyone else gets 0, so no
            # client can take it for one of its uploads (docs/protocol.md).
            others = prepare(attrs.evolve(event, upload_id=0))
            self._note_for_replay(event, sender)
        if recipient is None:
            data = _broadcast_bytes(prepared)
            if data is None:
                for session in self.sessions.values():
                    if session.live:
                        session.queue(prepared if session.username == sender else others)
                return
            # No per-recipient work: every live connection writes the turn's
            # broadcasts at its end (output.py).
            self._broadcast(data)
            return
        for name in (sender, recipient) if sender != recipient else (sender,):
            target = self.sessions.get(name)
            if target is not None and target.live:
                target.queue(prepared if name == sender else others)

    def _note_for_replay(self, announcement: FileAvailable, sender: str) -> None:
        """An uploader still replaying gets its announcement through the replay."""
        uploader = self.sessions.get(sender)
        if uploader is not None and not uploader.live:
            uploader.transfers.announced_in_replay(announcement)

    # -- output coalescing -------------------------------------------------------

    def mark_dirty(self, client: BufferedOutput) -> None:
        self._dirty[client] = None
        self._schedule_output()

    def _broadcast(self, data: bytes) -> None:
        self._broadcasts.append(data)
        self.broadcast_size += len(data)
        self._schedule_output()

    def _schedule_output(self) -> None:
        if not self._output_scheduled:
            self._output_scheduled = True
            asyncio.get_running_loop().call_soon(self._write_all)

    def broadcasts_so_far(self) -> bytes:
        """This turn's broadcasts until now, for a connection that flushes early."""
        if len(self._joined) != self.broadcast_size:
            self._joined = b"".join(self._broadcasts)
        return self._joined

    def _write_all(self) -> None:
        self._output_scheduled = False
        dirty, self._dirty = self._dirty, {}
        broadcasts = self.broadcasts_so_far()
        # A new turn starts before any write: a flush may end a session,
        # whose presence broadcast then belongs to the next turn.
        self._broadcasts = []
        self.broadcast_size = 0
        self._joined = b""
        if broadcasts:
            for session in list(self.sessions.values()):
                if session.live:
                    dirty.pop(session, None)
                    session.flush_output(broadcasts)
        for client in dirty:
            client.flush_output(broadcasts)

    # -- shutdown ----------------------------------------------------------------

    def close(self) -> None:
        for timer in self._grace_timers.values():
            timer.cancel()
        self._grace_timers.clear()
        # Logins still hashing were cancelled with their connections.
        self._hashing.shutdown(wait=False, cancel_futures=True)


