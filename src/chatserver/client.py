"""One client connection: bytes to events through ``chatproto.ServerConnection``.

The asyncio edge of the server: an ``asyncio.Protocol`` per connection (no
thread, no per-connection task unless a login, a replay or a fetch is in
progress). Events in are handled here; everything out goes through the
connection's ``outbox.Outbox``, written once per loop turn. How it ends
(the deadlines, the Error, the close and its linger) is ``client_endings``.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from chatproto import (
    ChatRejected,
    ConnectionClosed,
    CreateRoom,
    Error,
    ErrorCode,
    Event,
    FetchFile,
    FileAccepted,
    FileAvailable,
    FileChunk,
    FileEnd,
    FileOffer,
    Goodbye,
    Hello,
    InviteToRoom,
    JoinRoom,
    LeaveRoom,
    ListRooms,
    LocalProtocolError,
    Login,
    LoginAccepted,
    LoginRejected,
    Participant,
    ParticipantList,
    Ping,
    Pong,
    PreparedEvent,
    RejectReason,
    RemoteProtocolError,
    RequestRejected,
    RequestRejectReason,
    SearchHistory,
    SendChat,
    ServerConnection,
    TransientLogin,
)

from .client_endings import CLOSE_LINGER as CLOSE_LINGER
from .client_endings import ClientEndings
from .context import ServerContext
from .files.transfers import Transfers
from .flood import TokenBucket
from .history import replay, replay_step
from .hub import Hub
from .log import log, peer_quoted, peer_text
from .outbox import Writer

SOFTWARE = "chatserver"


def _no_clock() -> float:
    return 0.0  # before connection_made nothing is received


class ClientProtocol(ClientEndings, asyncio.Protocol):
    # Thousands of idle connections: no instance dict, and nothing per
    # connection that is not needed yet (events, sets, transfer state).
    # The slots that ``ClientEndings`` assigns are declared there.
    __slots__ = (
        "_clock", "_events_paused", "_flood", "_tasks", "_transfers", "address", "conn", "ctx",
        "hub", "outbox", "transport",
    )

    def __init__(self, ctx: ServerContext, hub: Hub) -> None:
        self.ctx = ctx
        self.hub = hub
        self.conn = ServerConnection()
        self.outbox = ctx.fanout.outbox(self.conn, self)
        self.transport: asyncio.Transport | None = None
        self.address = "?"
        self._events_paused = False
        self._tasks: set[asyncio.Task[None]] | None = None
        self._transfers: Transfers | None = None
        self._session_over = False
        #: The loop's clock, bound once: every read is stamped with it, since
        #: the connection's heartbeat counts a frame as of when it arrived.
        self._clock = _no_clock
        self._flood: TokenBucket | None = None
        # ``ClientEndings``' deadlines: set once connected, and once closed.
        self._login_deadline = math.inf
        self._abort_at = math.inf

    @property
    def username(self) -> str | None:
        return self.conn.username

    @property
    def closed(self) -> bool:
        """No more output: the transport is closing or closed."""
        return self.outbox.closed

    @property
    def transient(self) -> bool:
        """Its login is a TransientLogin (docs/protocol.md 7.9)."""
        return self.conn.transient

    @property
    def chunk_size(self) -> int:
        return self.conn.chunk_size

    @property
    def peer_max_frame_size(self) -> int:
        return self.conn.peer_max_frame_size

    @property
    def speaks_rooms(self) -> bool:
        """The agreed version has rooms: only then is room traffic sent to it."""
        return self.conn.speaks_rooms

    @property
    def live(self) -> bool:
        """Receives live messages (its replay, if any, has caught up)."""
        return self.outbox.live

    @property
    def transfers(self) -> Transfers:
        """This connection's uploads and fetches, made at the first file event."""
        if self._transfers is None:
            ctx, hub = self.ctx, self.hub
            self._transfers = Transfers(self, ctx.storage, ctx.store, hub.accounts,
                                        lambda done, stored: hub.submit_file(done, stored, self),
                                        hub.rooms)
        return self._transfers

    def __repr__(self) -> str:
        return f"<client {self.username or '-'} from {self.address}>"

    # -- asyncio.Protocol ------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.outbox.transport = self._writer(transport)
        peer = transport.get_extra_info("peername")
        self.address = str(peer[0]) if peer else "?"
        limit = self.ctx.config.output_buffer_limit
        transport.set_write_buffer_limits(high=max(min(limit // 4, 256 * 1024), 1))
        refusal = "the server is shutting down" if self.ctx.shutting_down else None
        refusal = refusal or self.ctx.registry.add(self)
        if refusal is not None:
            log.info("connection from %s refused: %s", self.address, refusal)
            self._fail(ErrorCode.TOO_MANY_CONNECTIONS, refusal)
            return
        self._clock = asyncio.get_running_loop().time
        self._login_deadline = self._clock() + self.ctx.config.login_timeout

    def _writer(self, transport: asyncio.Transport) -> Writer:
        """What the outbox writes through: plain TCP writes to the transport
        itself (``tls_client.TLSClientProtocol`` puts TLS in between)."""
        return transport

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        try:
            self.conn.receive_data(data, self._clock())
        except LocalProtocolError as exc:
            self._fail(ErrorCode.FRAME_TOO_LARGE, str(exc), reason="sent too much at once")
            return
        self._process()

    def eof_received(self) -> bool | None:
        if not self.closed:
            self.conn.receive_data(b"")
            self._process()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.outbox.lost()
        reason = "connection reset" if exc else "connection closed without goodbye"
        self._end_session(left=False, reason=reason)
        for task in self._tasks or ():
            task.cancel()
        if self._transfers is not None:
            self._transfers.abort()
        self.ctx.registry.remove(self)

    def pause_writing(self) -> None:
        self.outbox.pause_writing()

    def resume_writing(self) -> None:
        self.outbox.resume_writing()

    # -- output --------------------------------------------------------------------

    def queue(self, event: Event | PreparedEvent) -> None:
        """Send ``event`` with this loop turn's other output."""
        self.outbox.queue(event)

    def upload_accepted(self, upload_id: int) -> None:
        """The server takes upload ``upload_id``: its bytes may come."""
        self.queue(FileAccepted(upload_id))

    def flush_output(self) -> None:
        """Write what is queued now, with the broadcasts made so far."""
        self.outbox.flush()

    async def writable(self) -> None:
        await self.outbox.writable()

    def too_slow(self) -> None:
        self._end_session(left=False, reason="too slow (output buffer full)")

    # -- events in ---------------------------------------------------------------

    def _process(self) -> None:
        while not self._events_paused and not self.closed:
            try:
                event = self.conn.next_event()
            except RemoteProtocolError as exc:
                log.info("%r broke the protocol (%s): %s", self, exc.code, peer_text(exc.message))
                self._fail(exc.code, exc.message, reason=f"protocol error ({exc.code})")
                return
            if not isinstance(event, Event):
                break  # NEED_DATA
            try:
                _HANDLERS[type(event)](self, event)
            except Exception:
                log.exception("internal error handling %s from %r", type(event).__name__, self)
                self._fail(ErrorCode.SERVER_ERROR, "internal server error", reason="server error")
                return

    def _on_hello(self, event: Hello) -> None:
        self.queue(self.conn.hello(SOFTWARE))

    def _on_login(self, event: Login | TransientLogin) -> None:
        # Hold further input until the verdict: hashing runs off the loop.
        self._events_paused = True
        if self.transport is not None:
            self.transport.pause_reading()
        self.spawn(self._login(event))

    async def _login(self, event: Login | TransientLogin) -> None:
        try:
            await self.hub.login(self, event)
        except Exception:
            log.exception("login of %s failed", peer_quoted(event.username))  # not validated
            self._fail(ErrorCode.SERVER_ERROR, "internal server error")
        if self.closed or self.transport is None:
            return
        self._events_paused = False
        self.transport.resume_reading()
        self._process()

    def _on_ping(self, event: Ping) -> None:
        self.queue(Pong(event.nonce))

    def _on_pong(self, event: Pong) -> None:
        pass  # any input already counts as a sign of life

    def _on_goodbye(self, event: Goodbye) -> None:
        self._end_session(left=True)
        self._close()

    def _on_error(self, event: Error) -> None:
        log.info(
            "%r closed with error %s: %s", self, peer_text(event.code), peer_text(event.message)
        )
        self._end_session(left=False, reason=f"client error ({event.code})")
        self._close()

    def _on_closed(self, event: ConnectionClosed) -> None:
        self._end_session(left=False, reason="connection closed without goodbye")
        self._close()

    def _flooded(self) -> bool:
        """Spend one from the user's flood bucket: true when it is empty."""
        return self._flood is not None and not self._flood.take(asyncio.get_running_loop().time())

    def _on_chat(self, event: SendChat) -> None:
        if self._flooded():
            self.queue(ChatRejected(event.client_id, RejectReason.RATE_LIMITED, "slow down"))
            return
        self.hub.submit_chat(self, event)

    def _on_request(self, event: CreateRoom | JoinRoom | LeaveRoom | InviteToRoom) -> None:
        if self._limited(event.request_id):
            return
        self.hub.requests.change(self, event)

    def _on_list_rooms(self, event: ListRooms) -> None:
        if self._limited(event.request_id):
            return
        self.hub.requests.list_rooms(self, event)

    def _on_search(self, event: SearchHistory) -> None:
        if self._limited(event.request_id):
            return
        self.spawn(self.hub.requests.search(self, event))

    def _limited(self, request_id: int) -> bool:
        """Requests spend from the user's chat flood bucket: one limit for
        everything a user can make the server do over and over."""
        if self._flooded():
            self.queue(RequestRejected(request_id, RequestRejectReason.RATE_LIMITED, "slow down"))
            return True
        return False

    def file_unstored(self, upload_id: int) -> None:
        self.transfers.unstored(upload_id)

    def announced_in_replay(self, announcement: FileAvailable) -> None:
        self.transfers.announced_in_replay(announcement)

    def as_replayed(self, entry: FileAvailable) -> FileAvailable:
        return entry if self._transfers is None else self._transfers.as_replayed(entry)

    # -- login verdicts (called by the hub) ---------------------------------------

    def login_refused(self, rejected: LoginRejected) -> None:
        self.queue(rejected)

    def login_accepted(
        self, accepted: LoginAccepted, pages: Sequence[tuple[Participant, ...]]
    ) -> None:
        """Send the verdict and the rest of its participant list; a transient
        login is not on the bus (the hub queues its echoes)."""
        self._login_deadline = math.inf
        transient = self.conn.transient
        if not transient:
            self.outbox.attach(accepted.username)
        self.queue(accepted)
        for page in pages:
            self.queue(ParticipantList(page))
        loop = asyncio.get_running_loop()
        config = self.ctx.config
        self.conn.start_heartbeat(config.heartbeat_interval, config.heartbeat_timeout, loop.time())
        self._flood = self.hub.floods.join(accepted.username, self, loop.time())

    def start_replay(self, replay_after: int) -> None:
        """The replay after seq ``replay_after`` (nothing if it is not behind),
        then live messages. Its first step is queued at once (``replay_step``):
        a short replay goes live in the turn of the login."""
        if replay_after >= self.hub.last_seq:
            self.go_live()
            return
        store, batch = self.ctx.store, self.ctx.config.replay_batch
        after = replay_step(self, store, replay_after, batch)
        if after is not None:
            self.spawn(replay(self, store, after, batch))

    def go_live(self) -> None:
        """Receive live messages and broadcasts from now on."""
        self.outbox.go_live()

    # -- endings (the rest are ``ClientEndings``') ------------------------------

    def _end_session(self, *, left: bool, reason: str = "") -> None:
        if not self._session_over:
            self._session_over = True
            self.outbox.leave()
            self.hub.session_ended(self, left=left, reason=reason)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        if self._tasks is None:
            self._tasks = set()
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        if self._tasks is not None:
            self._tasks.discard(task)
            if not self._tasks:
                self._tasks = None  # an idle connection keeps no empty set


#: What each event from the client does; one table for all connections.
_HANDLERS: dict[type[Event], Callable[[ClientProtocol, Any], None]] = {
    SendChat: ClientProtocol._on_chat,
    CreateRoom: ClientProtocol._on_request,
    JoinRoom: ClientProtocol._on_request,
    LeaveRoom: ClientProtocol._on_request,
    InviteToRoom: ClientProtocol._on_request,
    ListRooms: ClientProtocol._on_list_rooms,
    SearchHistory: ClientProtocol._on_search,
    Ping: ClientProtocol._on_ping,
    Pong: ClientProtocol._on_pong,
    FileChunk: lambda client, event: client.transfers.chunk(event),
    FileOffer: lambda client, event: client.transfers.offer(event),
    FileEnd: lambda client, event: client.transfers.end(event),
    FetchFile: lambda client, event: client.transfers.fetch(event),
    Hello: ClientProtocol._on_hello,
    Login: ClientProtocol._on_login,
    TransientLogin: ClientProtocol._on_login,
    Goodbye: ClientProtocol._on_goodbye,
    Error: ClientProtocol._on_error,
    ConnectionClosed: ClientProtocol._on_closed,
}
