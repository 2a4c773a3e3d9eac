"""The heart of a client session: the read loop, the event stream, the ending.

One task reads the socket and dispatches every event: replies go to the
operation waiting for them (by client id, upload id or file id), everything
else to the bounded event stream. All writes happen on the loop's thread,
each frame whole, so frames never interleave. ``AsyncSession`` adds the
operations on top.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import secrets
from collections import deque
from collections.abc import AsyncIterator
from pathlib import Path

from .. import events as ev
from ..connection import NEED_DATA, ClientConnection
from ..errors import LocalProtocolError, RemoteProtocolError
from ..heartbeat import Heartbeat, HeartbeatAction
from ..limits import MAX_OPEN_FETCHES, MAX_OPEN_UPLOADS
from ..state import State
from .errors import ChatError, ConnectionLost, FileRefused, MessageRefused
from .notices import Disconnected
from .transfers import FetchSink, UploadWaiter

READ_SIZE = 65_536
DEFAULT_MAX_QUEUED_EVENTS = 10_000


class SessionCore:
    """State and plumbing of a logged-in connection (see ``AsyncSession``)."""

    username: str
    new_account: bool
    rejoined: bool
    last_seq: int
    epoch: int
    history_reset: bool
    #: name -> state of every participant (active and deactivated users);
    #: replaced, never mutated, so other threads may read it safely.
    participants: dict[str, ev.ParticipantState]

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        conn: ClientConnection,
        accepted: ev.LoginAccepted,
        *,
        last_seen_seq: int,
        heartbeat: tuple[float, float],
        keep_events: bool,
        max_queued_events: int,
    ) -> None:
        """Use ``connect``: this takes a connection that is already logged in."""
        self._loop = asyncio.get_running_loop()
        self._reader = reader
        self._writer = writer
        self._conn = conn
        self.username = accepted.username
        self.new_account = accepted.new_account
        self.rejoined = accepted.rejoined
        self.epoch = accepted.epoch
        self.history_reset = accepted.history_reset
        # After a reset the old seq means nothing here: count from the replay.
        self.last_seq = 0 if accepted.history_reset else min(last_seen_seq, accepted.last_seq)
        self.participants = {p.name: p.state for p in accepted.participants}
        self._keep_events = keep_events
        self._max_queued = max(1, max_queued_events)
        self._queue: deque[ev.Event] = deque()
        self._readable = asyncio.Event()
        self._space = asyncio.Event()
        self._final: Disconnected | None = None
        self._final_taken = False
        self._closing_by_us = False
        self._abort_reason: tuple[str, str] | None = None
        self._server_goodbye: ev.Goodbye | None = None
        self._server_error: ev.Error | None = None
        # History replays carry the client and upload ids of earlier sessions:
        # random starting points, and matching on content, keep them apart.
        self._client_ids = itertools.count(secrets.randbelow(2**31) + 1)
        self._upload_ids = itertools.count(secrets.randbelow(2**31) + 1)
        self._chats: dict[int, tuple[ev.SendChat, asyncio.Future[ev.ChatMessage]]] = {}
        self._uploads: dict[int, UploadWaiter] = {}
        self._fetches: dict[int, FetchSink] = {}
        self._upload_slots = asyncio.Semaphore(MAX_OPEN_UPLOADS)
        self._fetch_slots = asyncio.Semaphore(MAX_OPEN_FETCHES)
        self._part_locks: dict[Path, tuple[asyncio.Lock, int]] = {}
        interval, hb_timeout = heartbeat
        self._heartbeat = Heartbeat(interval, hb_timeout, self._loop.time())
        self._reader_task = self._loop.create_task(self._read_loop())
        self._heartbeat_task = self._loop.create_task(self._heartbeat_loop())

    # -- state -----------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._final is None

    @property
    def chunk_size(self) -> int:
        return self._conn.chunk_size

    # -- events ----------------------------------------------------------------

    async def next_event(self) -> ev.Event:
        """The next incoming event (``ChatMessage``, ``Presence``,
        ``FileAvailable``), ending with one ``Disconnected``; after that,
        raises ``ConnectionLost``."""
        while not self._queue:
            if self._final_taken:
                raise ConnectionLost("the session is closed")
            self._readable.clear()
            await self._readable.wait()
        event = self._queue.popleft()
        self._space.set()
        if isinstance(event, Disconnected):
            self._final_taken = True
        return event

    async def events(self) -> AsyncIterator[ev.Event]:
        """Every incoming event, the final ``Disconnected`` included."""
        while True:
            event = await self.next_event()
            yield event
            if isinstance(event, Disconnected):
                return

    async def _deliver(self, event: ev.Event) -> None:
        if not self._keep_events:
            return
        # No backpressure once we are leaving: close() must not wait on a reader.
        while len(self._queue) >= self._max_queued and not self._closing_by_us:
            self._space.clear()
            await self._space.wait()
        self._queue.append(event)
        self._readable.set()

    # -- the read loop -----------------------------------------------------------

    async def _read_loop(self) -> None:
        try:
            while True:
                event = self._conn.next_event()
                if event is NEED_DATA:
                    data = await self._reader.read(READ_SIZE)
                    self._heartbeat.activity(self._loop.time())
                    self._conn.receive_data(data)
                elif isinstance(event, ev.ConnectionClosed):
                    break
                elif isinstance(event, ev.Event):
                    await self._dispatch(event)
        except RemoteProtocolError as exc:
            self._send_error(exc)
            self._abort_reason = self._abort_reason or ("protocol-error", f"protocol error: {exc}")
        except (OSError, EOFError) as exc:
            if self._abort_reason is None:
                self._abort_reason = ("connection-lost", f"connection lost: {exc}")
        except Exception as exc:  # a bug must still end the session in order
            self._writer.close()
            self._abort_reason = self._abort_reason or ("internal-error", f"session error: {exc!r}")
        finally:
            self._finish()

    async def _dispatch(self, event: ev.Event) -> None:
        if isinstance(event, ev.Ping):
            if self._conn.state is State.ACTIVE:  # not after our own Goodbye
                with contextlib.suppress(ChatError):
                    self._send(ev.Pong(event.nonce))
        elif isinstance(event, ev.ChatMessage):
            self.last_seq = max(self.last_seq, event.seq)
            pending = self._chats.get(event.client_id) if event.sender == self.username else None
            if pending is not None:
                sent, waiter = pending
                same = (sent.text, sent.recipient) == (event.text, event.recipient)
                if same and not waiter.done():
                    waiter.set_result(event)
            await self._deliver(event)
        elif isinstance(event, ev.Presence):
            self._track_presence(event)
            await self._deliver(event)
        elif isinstance(event, ev.FileAvailable):
            self.last_seq = max(self.last_seq, event.seq)
            upload = self._uploads.get(event.upload_id) if event.sender == self.username else None
            if upload is not None and upload.matches(event) and not upload.available.done():
                upload.available.set_result(event)
            await self._deliver(event)
        elif isinstance(event, ev.FileChunk | ev.FileEnd | ev.FetchRejected):
            self._route_fetch(event)
        elif isinstance(event, ev.ChatRejected | ev.FileAccepted | ev.FileRejected):
            self._route_reply(event)
        elif isinstance(event, ev.Goodbye):
            self._server_goodbye = event
        elif isinstance(event, ev.Error):
            self._server_error = event

    def _track_presence(self, event: ev.Presence) -> None:
        participants = dict(self.participants)
        if event.state is ev.PresenceState.LEFT:
            participants.pop(event.user, None)
        elif event.state is ev.PresenceState.DEACTIVATED:
            participants[event.user] = ev.ParticipantState.DEACTIVATED
        else:
            participants[event.user] = ev.ParticipantState.ACTIVE
        self.participants = participants

    def _route_reply(self, event: ev.ChatRejected | ev.FileAccepted | ev.FileRejected) -> None:
        if isinstance(event, ev.ChatRejected):
            _, chat = self._chats.get(event.client_id, (None, None))
            if chat is not None and not chat.done():
                chat.set_exception(
                    MessageRefused(f"message refused: {_reason(event)}", event.reason)
                )
            return
        upload = self._uploads.get(event.upload_id)
        if upload is None:
            return
        if isinstance(event, ev.FileAccepted):
            if not upload.accepted.done():
                upload.accepted.set_result(None)
        else:
            upload.reject(FileRefused(f"file refused: {_reason(event)}", event.reason))

    def _route_fetch(self, event: ev.FileChunk | ev.FileEnd | ev.FetchRejected) -> None:
        if isinstance(event, ev.FileChunk):
            sink = self._fetches.get(event.transfer_id)
            if sink is not None:
                sink.chunk(event.offset, event.data)
            return
        # The fetch is over either way (the connection's state agrees).
        if isinstance(event, ev.FetchRejected):
            sink = self._fetches.pop(event.file_id, None)
            if sink is not None:
                sink.finish(FileRefused(f"download refused: {_reason(event)}", event.reason))
        else:
            sink = self._fetches.pop(event.transfer_id, None)
            if sink is not None:
                sink.end()

    # -- writing and ending ------------------------------------------------------

    def _send(self, event: ev.Event) -> None:
        if self._final is not None or self._writer.is_closing():
            raise ConnectionLost(self._lost_message())
        self._writer.write(self._conn.send(event))

    async def _drain(self) -> None:
        try:
            await self._writer.drain()
        except (OSError, RuntimeError):
            raise ConnectionLost(self._lost_message()) from None

    def _send_error(self, exc: RemoteProtocolError) -> None:
        try:
            if not self._writer.is_closing():
                self._writer.write(self._conn.send(ev.Error(exc.code, str(exc)[:200])))
        except (LocalProtocolError, OSError):
            pass

    def _abort(self, code: str, message: str) -> None:
        if self._abort_reason is None:
            self._abort_reason = (code, message)
        self._writer.close()
        # The reader may be parked on a full event queue and would never see
        # the close: stop it, so that waiters fail and Disconnected is queued.
        self._reader_task.cancel()

    async def _heartbeat_loop(self) -> None:
        while self._final is None:
            delay = self._heartbeat.deadline() - self._loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
                continue
            action = self._heartbeat.poll(self._loop.time())
            if action is HeartbeatAction.SEND_PING:
                try:
                    self._send(ev.Ping(self._heartbeat.next_nonce()))
                except (ChatError, LocalProtocolError):
                    return
            elif action is HeartbeatAction.TIMED_OUT:
                self._abort("timeout", "the server stopped answering (heartbeat timed out)")
                return
            else:
                await asyncio.sleep(0.05)

    def _finish(self) -> None:
        if self._final is not None:
            return
        self._final = self._disconnection()
        lost = ConnectionLost(self._lost_message())
        for _, chat in self._chats.values():
            if not chat.done():
                chat.set_exception(lost)
        for upload in self._uploads.values():
            upload.reject(lost)
        for sink in self._fetches.values():
            sink.finish(lost)
        self._writer.close()
        self._heartbeat_task.cancel()
        # The final notice may exceed the queue bound by one: nothing waits on it.
        self._queue.append(self._final)
        self._readable.set()

    def _disconnection(self) -> Disconnected:
        if self._closing_by_us:
            return Disconnected("closed", "you left the chat", clean=True, by_us=True)
        if self._server_error is not None:
            error = self._server_error
            return Disconnected(error.code, f"the server closed the connection: {_reason(error)}",
                                clean=True)
        if self._server_goodbye is not None:
            text = self._server_goodbye.message or "goodbye"
            return Disconnected("goodbye", f"the server said goodbye: {text}", clean=True)
        if self._abort_reason is not None:
            return Disconnected(*self._abort_reason, clean=False)
        return Disconnected("connection-lost", "the server closed the connection", clean=False)

    def _lost_message(self) -> str:
        final = self._final or self._disconnection()
        return final.message


def _reason(event: ev.ChatRejected | ev.FileRejected | ev.FetchRejected | ev.Error) -> str:
    code = event.code if isinstance(event, ev.Error) else event.reason
    return f"{code} ({event.message})" if event.message else code


__all__ = ["DEFAULT_MAX_QUEUED_EVENTS", "SessionCore"]
