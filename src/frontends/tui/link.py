"""One stay in the chat: the login, the events, the losses and comebacks, the leave.

No widgets here, only ``chatproto.session`` on the app's asyncio loop
(Textual runs on asyncio, so the session needs no thread of its own). What
the user should see is handed to a ``LinkListener``, the app.

- Messages and files are handed on once each, in ``seq`` order: the last
  ``seq`` shown is saved in the state file after each one (``SeqStore``, the
  same file and keys as ``chat-cli listen``), so the next start asks the
  server for exactly what was missed, and a replay after a reconnect skips
  what is on screen already.
- A lost connection (not our own goodbye) is reported, then logins again
  with growing waits (``chatproto.session.reconnect``) and the lost
  session's resume token, the password as fallback. A refusal another
  attempt would only repeat (a wrong password, a changed certificate) stops
  the attempts until ``retry()`` (the app's Ctrl+R).
- With several servers (``Account.servers``) each attempt goes over the list
  from the server after the one lost (``chatproto.session.connect_any``);
  the last seq is kept under the first server of the list.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from os import PathLike
from pathlib import Path
from typing import Protocol

import attrs

from chatproto import (
    ChatMessage,
    Event,
    FileAvailable,
    Membership,
    Presence,
    RoomInfo,
    is_room_target,
    room_of,
)
from chatproto.session import (
    AsyncSession,
    ChatError,
    ClientTLS,
    ConnectionLost,
    Disconnected,
    ProgressCallback,
    SeqStore,
    ServerAddress,
    connect_any,
)
from chatproto.session.reconnect import Backoff, RetryPlan, reconnect
from chatproto.session.servers import after

#: A session that lasted this long was not "lost again at once": the next
#: loss starts with short waits again (as ``chat-cli listen``).
STABLE_SECONDS = 30.0


@attrs.frozen
class Account:
    """Where to connect and as whom: ``servers`` in order (empty: ``host``
    and ``port`` alone), ``host`` and ``port`` its first."""

    host: str
    port: int
    user: str
    password: str = attrs.field(repr=False)
    tls: ClientTLS = attrs.field(factory=ClientTLS)
    servers: tuple[ServerAddress, ...] = ()

    @property
    def server_list(self) -> tuple[ServerAddress, ...]:
        return self.servers or (ServerAddress(self.host, self.port),)


class LinkListener(Protocol):
    def link_event(self, event: ChatMessage | FileAvailable | Presence | Membership) -> None:
        """A new message or file (each once), or a presence change."""

    def link_history_reset(self) -> None:
        """The server's history is another one: it is all replayed."""

    def link_lost(self, lost: Disconnected) -> None:
        """The connection was lost; attempts to come back follow."""

    def link_retry_failed(self, error: ChatError, plan: RetryPlan) -> None:
        """An attempt failed and another will follow."""

    def link_restored(self, session: AsyncSession, attempts: int) -> None:
        """Logged in again after ``attempts`` attempts."""

    def link_gave_up(self, error: ChatError) -> None:
        """No more attempts until ``retry()``: ``error`` would only repeat."""


class ChatLink:
    def __init__(
        self, account: Account, seqs: SeqStore, listener: LinkListener,
        backoff: Backoff | None = None,
    ) -> None:
        self.account = account
        self.seqs = seqs
        self.listener = listener
        self.backoff = backoff
        self.session: AsyncSession | None = None
        a = account
        self.shown_seq, self.epoch = seqs.load_mark(a.host, a.port, a.user)
        self.leaving = False
        self._retry = asyncio.Event()

    @property
    def connected(self) -> bool:
        return self.session is not None and self.session.connected

    async def login(self, resume_token: bytes | None = None, start: int = 0) -> AsyncSession:
        """Log in, asking for what came after the last ``seq`` shown, on the
        first server from index ``start`` on that takes it; raises
        ``ChatError``. The first login of a run and every comeback."""
        a = self.account
        session = await connect_any(
            a.server_list, a.user, a.password, start=start, last_seen_seq=self.shown_seq,
            epoch=self.epoch, tls=a.tls, resume_token=resume_token,
        )
        self.session = session
        self._follow_history(session)
        return session

    async def follow(self) -> None:
        """Hand on the session's events until we leave, through every loss."""
        loop = asyncio.get_running_loop()
        plan: RetryPlan | None = None
        while self.session is not None:
            session = self.session
            since, seen = loop.time(), self.shown_seq
            lost = await self._events_of(session)
            if lost.by_us or self.leaving:
                return
            self.session = None
            self.listener.link_lost(lost)
            if plan is None or self.shown_seq > seen or loop.time() - since >= STABLE_SECONDS:
                plan = RetryPlan(self.backoff)
            else:
                # Lost again at once with nothing new: a server that breaks
                # every session must meet growing waits, not a login a second.
                plan.failed(ConnectionLost(lost.message))
            start = after(self.account.server_list, session.server)
            await self._come_back(plan, session.resume_token, start)

    async def _events_of(self, session: AsyncSession) -> Disconnected:
        while True:
            event = await session.next_event()
            if isinstance(event, Disconnected):
                return event
            self._dispatch(event)

    async def _come_back(self, plan: RetryPlan, token: bytes | None, start: int) -> None:
        while not self.leaving:
            failed_before = plan.failures
            try:
                session = await reconnect(functools.partial(self.login, token, start), plan,
                                          on_failure=self.listener.link_retry_failed)
            except ChatError as error:
                self.listener.link_gave_up(error)
                self._retry.clear()
                await self._retry.wait()
                plan = RetryPlan(self.backoff)
                continue
            self.listener.link_restored(session, plan.failures - failed_before + 1)
            return

    def retry(self) -> None:
        """Try again after ``link_gave_up`` (a no-op otherwise)."""
        self._retry.set()

    def _dispatch(self, event: Event) -> None:
        if isinstance(event, ChatMessage | FileAvailable):
            if event.seq <= self.shown_seq:
                return  # on screen already: replayed again after a comeback
            self._remember(event.seq)
            self.listener.link_event(event)
        elif isinstance(event, Presence | Membership):
            self.listener.link_event(event)

    def _follow_history(self, session: AsyncSession) -> None:
        """Take the server's history epoch; after a reset, all of it is new."""
        if session.history_reset:
            self.shown_seq = 0
            self.listener.link_history_reset()
        if session.epoch != self.epoch:
            self.epoch = session.epoch
            self._remember(self.shown_seq)

    def _remember(self, seq: int) -> None:
        self.shown_seq = seq
        a = self.account
        # A failure only costs a longer replay at the next start.
        with contextlib.suppress(OSError):
            self.seqs.save(a.host, a.port, a.user, seq, self.epoch)

    def _session(self) -> AsyncSession:
        session = self.session
        if session is None or not session.connected:
            raise ConnectionLost("not connected to the server")
        return session

    async def send_chat(self, text: str, to: str | None) -> ChatMessage:
        """To everyone (None), a user, or a ``#room``."""
        user, room = _split_target(to)
        return await self._session().send_chat(text, user, room)

    async def send_file(
        self, path: str | PathLike[str], to: str | None, progress: ProgressCallback | None,
    ) -> FileAvailable:
        user, room = _split_target(to)
        return await self._session().send_file(path, user, progress, room=room)

    async def list_rooms(self) -> list[RoomInfo]:
        return await self._session().list_rooms()

    async def join_room(self, room: str) -> None:
        await self._session().join_room(room)

    async def create_room(self, room: str, private: bool) -> None:
        await self._session().create_room(room, private)

    async def leave_room(self, room: str) -> None:
        await self._session().leave_room(room)

    async def download(
        self, file: FileAvailable, folder: Path, progress: ProgressCallback | None,
    ) -> Path:
        return await self._session().download(file, folder, progress)

    async def leave(self) -> None:
        """Say goodbye (others see ``left``), and stop coming back."""
        self.leaving = True
        self._retry.set()
        session, self.session = self.session, None
        if session is not None:
            await session.close()



def _split_target(to: str | None) -> tuple[str | None, str | None]:
    """The session's ``to`` and ``room`` for a recipient: None (general), a
    user, or a ``#room``."""
    return (None, room_of(to)) if is_room_target(to) else (to, None)

__all__ = ["STABLE_SECONDS", "Account", "ChatLink", "LinkListener"]
