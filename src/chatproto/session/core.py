"""The heart of a client session: the read loop, the event stream, the ending.

One task reads the socket and hands every event to the ``ClientState``,
which keeps the bookkeeping (what is pending, who is here); its outcomes
become the results of the futures operations wait on (by client id, upload
id, file id or request id) and the bounded event stream. All writes happen on the
loop's thread, each frame whole, so frames never interleave.
``AsyncSession`` adds the operations on top.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator
from pathlib import Path

from .. import events as ev
from ..client_requests import (
    RequestFailed,
    RequestOutcome,
    RequestSucceeded,
    RoomsListed,
    SearchFinished,
)
from ..client_state import (
    ChatDelivered,
    ChatRefused,
    ClientState,
    FetchData,
    FetchEnded,
    FetchRefused,
    HandOn,
    LoginComplete,
    Outcome,
    UploadAccepted,
    UploadCompleted,
    UploadRefused,
    UploadTicketed,
)
from ..connection import NEED_DATA, ClientConnection
from ..errors import LocalProtocolError, RemoteProtocolError
from ..limits import MAX_OPEN_FETCHES, MAX_OPEN_REQUESTS, MAX_OPEN_UPLOADS
from ..state import State
from .errors import ChatError, ConnectionLost, FileRefused, MessageRefused
from .notices import Disconnected
from .transfers import FetchSink, UploadWaiter

READ_SIZE = 65_536
DEFAULT_MAX_QUEUED_EVENTS = 10_000
#: Logged in: ordinarily, or transiently (docs/protocol.md 7.9).
_LOGGED_IN = frozenset({State.ACTIVE, State.TRANSIENT})


class SessionCore:
    """State and plumbing of a logged-in connection (see ``AsyncSession``)."""

    username: str
    new_account: bool
    rejoined: bool
    epoch: int
    history_reset: bool
    #: The server's token for the next login (None: it issued none). Kept in
    #: memory only: it logs this user in, as the password does.
    resume_token: bytes | None

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        conn: ClientConnection,
        client: ClientState,
        *,
        heartbeat: tuple[float, float],
        keep_events: bool,
        max_queued_events: int,
    ) -> None:
        """Use ``connect``: this takes a connection that is already logged in."""
        accepted = client.login
        if accepted is None:
            raise ValueError("the session needs a completed login")
        self._loop = asyncio.get_running_loop()
        self._reader = reader
        self._writer = writer
        self._conn = conn
        self._client = client
        self.username = accepted.username
        self.new_account = accepted.new_account
        self.rejoined = accepted.rejoined
        self.epoch = accepted.epoch
        self.history_reset = accepted.history_reset
        self.resume_token = accepted.resume_token or None
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
        # What waits on the ClientState's outcomes, by the same ids.
        self._chats: dict[int, asyncio.Future[ev.ChatMessage]] = {}
        self._uploads: dict[int, UploadWaiter] = {}
        self._fetches: dict[int, FetchSink] = {}
        self._upload_slots = asyncio.Semaphore(MAX_OPEN_UPLOADS)
        self._fetch_slots = asyncio.Semaphore(MAX_OPEN_FETCHES)
        # A request holds its slot from before it is built until its answer,
        # even when its caller stopped waiting: the protocol counts it open
        # until then (client_requests.py).
        self._requests: dict[int, asyncio.Future[RequestOutcome]] = {}
        self._request_slots = asyncio.Semaphore(MAX_OPEN_REQUESTS)
        self._part_locks: dict[Path, tuple[asyncio.Lock, int]] = {}
        interval, hb_timeout = heartbeat
        self._conn.start_heartbeat(interval, hb_timeout, self._loop.time())
        self._reader_task = self._loop.create_task(self._read_loop())
        self._heartbeat_task = self._loop.create_task(self._heartbeat_loop())

    # -- state -----------------------------------------------------------------

    @property
    def last_seq(self) -> int:
        """The highest sequence number seen, to resume from."""
        return self._client.last_seq

    @property
    def participants(self) -> dict[str, ev.ParticipantState]:
        """name -> state of every participant (active and deactivated users);
        replaced, never mutated, so other threads may read it safely."""
        return self._client.participants

    @property
    def connected(self) -> bool:
        return self._final is None

    @property
    def transient(self) -> bool:
        """Logged in by a transient login: not a participant, no presence, no
        replay, no one else's messages; False also when ``connect(...,
        transient=True)`` met a version 2 server and logged in the ordinary way."""
        return self._conn.transient

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
                    self._conn.receive_data(data, self._loop.time())
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
            if self._conn.state in _LOGGED_IN:  # not after our own Goodbye
                with contextlib.suppress(ChatError):
                    self._send(ev.Pong(event.nonce))
        elif isinstance(event, ev.Goodbye):
            self._server_goodbye = event
        elif isinstance(event, ev.Error):
            self._server_error = event
        else:
            for outcome in self._client.receive(event):
                await self._act_on(outcome)

    async def _act_on(self, outcome: Outcome) -> None:
        match outcome:
            case HandOn(event):
                await self._deliver(event)
            case ChatDelivered(client_id, delivery):
                chat = self._chats.get(client_id)
                if chat is not None and not chat.done():
                    chat.set_result(delivery)
            case ChatRefused(client_id):
                chat = self._chats.get(client_id)
                if chat is not None and not chat.done():
                    error = MessageRefused(f"message refused: {outcome.describe()}", outcome.reason)
                    chat.set_exception(error)
            case UploadAccepted(upload_id):
                upload = self._uploads.get(upload_id)
                if upload is not None and not upload.accepted.done():
                    upload.accepted.set_result(None)
            case UploadRefused(upload_id):
                upload = self._uploads.get(upload_id)
                if upload is not None:
                    upload.reject(FileRefused(f"file refused: {outcome.describe()}",
                                              outcome.reason))
            case UploadCompleted(upload_id, announcement):
                upload = self._uploads.get(upload_id)
                if upload is not None:
                    upload.complete(announcement)
            case FetchData(file_id, offset, data):
                sink = self._fetches.get(file_id)
                if sink is not None:
                    sink.chunk(offset, data)
            case FetchEnded(file_id):
                sink = self._fetches.pop(file_id, None)
                if sink is not None:
                    sink.end()
            case FetchRefused(file_id):
                sink = self._fetches.pop(file_id, None)
                if sink is not None:
                    sink.finish(FileRefused(f"download refused: {outcome.describe()}",
                                            outcome.reason))
            case RequestSucceeded() | RequestFailed() | RoomsListed() | SearchFinished():
                self._answered(outcome)
            case LoginComplete():
                pass  # the handshake's business, finished before this loop starts
            case UploadTicketed():
                pass  # for uploads over HTTP (a browser's WebSocket): not sent over TCP

    def _answered(self, outcome: RequestOutcome) -> None:
        waiter = self._requests.pop(outcome.request_id, None)
        if waiter is None:
            return
        self._request_slots.release()
        if not waiter.done():
            waiter.set_result(outcome)

    # -- writing and ending ------------------------------------------------------

    def _send(self, event: ev.Event) -> None:
        if self._final is not None or self._writer.is_closing():
            raise self._lost()
        self._writer.write(self._conn.send(event))

    async def _drain(self) -> None:
        try:
            await self._writer.drain()
        except (OSError, RuntimeError):
            raise self._lost() from None

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
        """Fire the connection's timer when it is due: the rules (what is a
        sign of life, when to ping, when to give up) are the connection's."""
        while self._final is None:
            timer = self._conn.get_timer()
            if timer is None:
                return
            delay = timer - self._loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
                continue
            try:
                ping = self._conn.handle_timer(self._loop.time())
            except RemoteProtocolError:
                self._abort("timeout", "the server stopped answering (heartbeat timed out)")
                return
            if ping is None:
                await asyncio.sleep(0.05)  # a rounding step short of the deadline
                continue
            try:
                self._send(ping)
            except (ChatError, LocalProtocolError):
                return

    def _finish(self) -> None:
        if self._final is not None:
            return
        self._final = self._disconnection()
        lost = self._lost()
        for chat in self._chats.values():
            if not chat.done():
                chat.set_exception(lost)
        for upload in self._uploads.values():
            upload.reject(lost)
        for sink in self._fetches.values():
            sink.finish(lost)
        for waiter in self._requests.values():
            if not waiter.done():
                waiter.set_exception(lost)
            # Whoever waits for a slot must wake, to meet the ConnectionLost.
            self._request_slots.release()
        self._requests.clear()
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

    def _lost(self) -> ConnectionLost:
        """The error of an operation the ending cut short, with the ending's
        code (``account-disabled`` when an administrator ended it...)."""
        final = self._final or self._disconnection()
        return ConnectionLost(final.message, final.code)


def _reason(error: ev.Error) -> str:
    return f"{error.code} ({error.message})" if error.message else error.code


__all__ = ["DEFAULT_MAX_QUEUED_EVENTS", "SessionCore"]
