"""One client connection: bytes to events through ``chatproto.ServerConnection``.

The asyncio edge of the server: an ``asyncio.Protocol`` per connection (no
thread, no per-connection task unless a login, a replay or a fetch is in
progress). Events in are handled here; everything out goes through the
connection's ``fanout.Outbox``, written once per loop turn.
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

from .context import ServerContext
from .fanout import Writer
from .files.transfers import Transfers
from .flood import TokenBucket
from .history import replay, replay_step
from .hub import Hub
from .log import log, peer_quoted, peer_text

SOFTWARE = "chatserver"
#: How long a connection closed after an Error still reads (and drops) what
#: its peer sends before it is aborted (``ClientProtocol._close``).
CLOSE_LINGER = 2.0
_MAX_ERROR_MESSAGE = 1000


def _short(message: str) -> str:
    return message.encode("utf-8")[:_MAX_ERROR_MESSAGE].decode("utf-8", "ignore")


def _no_clock() -> float:
    return 0.0  # before connection_made nothing is received


class ClientProtocol(asyncio.Protocol):
    # Thousands of idle connections: no instance dict, and nothing per
    # connection that is not needed yet (events, sets, transfer state).
    __slots__ = (
        "_abort_at", "_clock", "_events_paused", "_flood", "_login_deadline", "_session_over",
        "_tasks", "_transfers", "address", "conn", "ctx", "hub", "outbox", "transport",
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
        #: When an unauthenticated connection is closed (checked by the
        #: server's ``TimeoutSweeper``, like the heartbeat); inf once logged in.
        self._login_deadline = math.inf
        #: Once closed: when the sweeper aborts the transport if it has not
        #: reported ``connection_lost`` yet (its peer does not read).
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

    # -- heartbeat and timeouts -------------------------------------------------

    def check_deadlines(self, now: float) -> None:
        """Ping an idle session, drop a dead one, close a connection that did
        not log in in time, abort one that is still closing (called by the
        server's ``TimeoutSweeper``)."""
        if self.closed:
            if now >= self._abort_at:
                self._abort_at = math.inf
                self.abort()
            return
        timer = self.conn.get_timer()  # the heartbeat, once logged in
        if timer is None:
            if now >= self._login_deadline:
                self._login_too_late(now)
            return
        if now < timer:
            return
        try:
            ping = self.conn.handle_timer(now)
        except RemoteProtocolError as exc:  # timed out: a whole frame is a sign of life
            self._fail(exc.code, exc.message, reason=exc.message)
            return
        if ping is not None:
            self.queue(ping)

    def _login_too_late(self, now: float) -> None:
        if self._events_paused:
            # A login is being checked (its hash may wait behind many others):
            # the peer did its part in time.
            self._login_deadline = now + self.ctx.config.login_timeout
            return
        if self.username is None:
            log.info("connection from %s closed: no login in time", self.address)
            self._fail(ErrorCode.TIMEOUT, "no login in time")

    # -- endings -------------------------------------------------------------------

    def _end_session(self, *, left: bool, reason: str = "") -> None:
        if not self._session_over:
            self._session_over = True
            self.outbox.leave()
            self.hub.session_ended(self, left=left, reason=reason)

    def _close(self, *, linger: bool = False) -> None:
        """Flush and close normally; every close, whatever its reason, ends here.

        ``transport.close()`` waits until the unsent bytes are written, which
        is never for a peer that does not read: if ``connection_lost`` has not
        come by the sweeper's next pass, it aborts the transport (``abort``),
        so that the connection's buffers, fetches and slot are freed.

        ``linger`` (after an Error): end our stream but read on, dropping
        what comes, until the peer closes, for at most ``CLOSE_LINGER``
        seconds. A socket closed with bytes unread resets the connection: a
        peer still sending (the body of a frame too large) would get a
        broken pipe, and the reset can destroy the Error before it is read."""
        if self.closed or self.transport is None:
            return
        self.outbox.close(linger=linger)
        now = asyncio.get_running_loop().time()
        self._abort_at = now + CLOSE_LINGER if linger else now

    def _fail(self, code: str, message: str, reason: str = "", *, left: bool = False) -> None:
        """Tell the peer why in an Error frame, then close; ``left``: the user
        has left (else, if logged in, it is deactivated)."""
        if self.closed:
            return
        self.queue(Error(code, _short(message)))
        self._end_session(left=left, reason=reason or message)
        self._close(linger=True)

    def end_by_admin(self, code: str, message: str) -> None:
        """An administrator ended this user's session (account disabled or
        deleted): an Error with ``code`` and the reason, and the user has left."""
        self._fail(code, message, left=True)

    def shutdown(self, message: str) -> None:
        """The server stops: Goodbye, flush, close (the user is not 'left')."""
        if self.closed:
            self.outbox.end_linger()
            return
        self._session_over = True
        self.queue(Goodbye(message))
        self._close()

    def abort(self) -> None:
        """Close at once, dropping what is unsent (``Outbox.abort``)."""
        self.outbox.abort()

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
