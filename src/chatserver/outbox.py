"""Each connection's output, and the turn's broadcast log all of them share.

Everything a connection sends goes through its ``Outbox`` and is written
with one ``write`` per loop turn (a connection whose unsent bytes grow past
the bound is dropped as too slow; fetches wait for its transport to drain).
A broadcast is not queued per connection at all: ``Outboxes`` keeps one log
of this turn's broadcasts and, at the end of the turn, writes the same
joined bytes to every live outbox. Which connections an entry goes to, and
whether through the log, is ``fanout.Fanout``'s (built on ``Outboxes``);
how each connection's bytes keep their order is this module's, the reason
the outbox and the log are kept together here.

The invariant, which everything below keeps: **a connection receives, in
the order they were made, exactly the broadcasts made while its outbox was
live, and between them its own output, each byte in the order in which it
was produced.** An outbox is live from ``go_live`` until it leaves:
``leave``, ``lost``, or a send after which its connection no longer
``accepts_broadcasts`` (its Goodbye or Error: the connection, not the
server, says when). To keep the order without copying the log, an outbox's
queue holds its own bytes and, between them, offsets into the log ("this
turn's broadcasts up to here come now"); ``_start`` is where its share of
the log begins (it went live, or wrote early, after others) and ``_placed``
how far that share is already in its queue. Every offset is one of this
turn's log, and every outbox holding one is written before the log starts
again for the next turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from typing import Any, Protocol

from chatproto import Event, LocalProtocolError, PreparedEvent, ServerConnection

from .log import log

#: ``SO_LINGER`` on, 0 seconds: ``close`` discards unsent data and resets.
_LINGER_NOT = struct.pack("ii", 1, 0)


class Writer(Protocol):
    """Where an outbox's bytes go: the connection's plain transport itself,
    or its TLS layer (``tls_transport.ServerTLS``), which encrypts them into
    that transport. Either way ``get_write_buffer_size`` counts every byte
    written and not yet sent, so the output limit holds for both."""

    def write(self, data: bytes) -> None: ...

    def get_write_buffer_size(self) -> int: ...

    def close(self) -> None: ...

    def write_eof(self) -> None:
        """The end of our stream once what is written is sent; reading goes
        on (``close`` or ``abort`` ends it)."""
        ...

    def abort(self) -> None: ...

    def get_extra_info(self, name: str, default: Any = None) -> Any: ...


class Owner(Protocol):
    """The connection an outbox belongs to."""

    def too_slow(self) -> None:
        """Its peer does not read: end its session (the outbox aborts it)."""
        ...


class Outboxes:
    """The turn's broadcast log, each connection's ``Outbox`` and the
    logged-in users' outboxes by name: the state every outbox keeps up to
    date itself, so that ``fanout.Fanout`` only has to choose recipients."""

    def __init__(self, output_limit: int) -> None:
        #: Unsent bytes an outbox may leave in its transport's buffer.
        self.output_limit = output_limit
        #: This turn's broadcast frames, their total size, and their join.
        self._log: list[bytes] = []
        self._size = 0
        self._joined = b""
        #: The outboxes that receive broadcasts.
        self._live: dict[Outbox, None] = {}
        #: Every logged-in user's outbox, live or still replaying.
        self._members: dict[str, Outbox] = {}
        #: The members not live (replaying, or done with broadcasts): a
        #: presence change goes to each of them through ``queue``, to the
        #: live ones through the log.
        self._not_live: dict[Outbox, None] = {}
        #: Outboxes with something of their own queued this turn.
        self._dirty: dict[Outbox, None] = {}
        self._scheduled = False

    def outbox(self, conn: ServerConnection, owner: Owner) -> Outbox:
        """A new connection's output and place in the fan-out."""
        return Outbox(self, conn, owner)

    # -- the turn ----------------------------------------------------------------

    def _publish(self, data: bytes) -> None:
        self._log.append(data)
        self._size += len(data)
        self._schedule()

    def _mark(self, outbox: Outbox) -> None:
        self._dirty[outbox] = None
        self._schedule()

    def _schedule(self) -> None:
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._end_turn)

    def _log_so_far(self) -> bytes:
        if len(self._joined) != self._size:
            self._joined = b"".join(self._log)
        return self._joined

    def _end_turn(self) -> None:
        self._scheduled = False
        dirty, self._dirty = self._dirty, {}
        turn_log = self._log_so_far()
        # The next turn's log starts before any write: a write may end a
        # session, whose presence broadcast then belongs to the next turn.
        self._log, self._size, self._joined = [], 0, b""
        if turn_log:
            for outbox in list(self._live):  # a write may drop its connection
                dirty.pop(outbox, None)
                outbox.flush(turn_log)
        for outbox in dirty:
            outbox.flush(turn_log)


class Outbox:
    """One connection's output: its queue, its place in the fan-out's log,
    and its writer (bounded, with backpressure, abortable)."""

    # One per connection, thousands of them: no instance dict.
    __slots__ = (
        "_fanout", "_lingering", "_live", "_name", "_owner", "_placed", "_queue", "_start",
        "_writable", "_write_paused", "closed", "conn", "transport",
    )

    def __init__(self, fanout: Outboxes, conn: ServerConnection, owner: Owner) -> None:
        self._fanout = fanout
        self.conn = conn
        self._owner = owner
        self.transport: Writer | None = None
        #: No more output: the transport is closing or closed.
        self.closed = False
        #: Closed with ``linger``: the transport is still open for reading.
        self._lingering = False
        self._name: str | None = None
        self._live = False
        #: This turn's output: bytes of its own, and offsets into the log.
        self._queue: list[bytes | int] = []
        self._start = self._placed = 0
        #: The transport's buffer is over its high-water mark.
        self._write_paused = False
        #: Set when writing resumes; made only when someone waits for it.
        self._writable: asyncio.Event | None = None

    def __repr__(self) -> str:
        return repr(self._owner)

    @property
    def live(self) -> bool:
        """Receives broadcasts and live deliveries (its replay, if any, is over)."""
        return self._live

    @property
    def name(self) -> str | None:
        """The user whose deliveries come here (``attach``)."""
        return self._name

    def attach(self, name: str) -> None:
        """Deliveries for the logged-in user ``name`` come here from now on."""
        fanout = self._fanout
        replaced = fanout._members.get(name)
        if replaced is not None and replaced is not self:
            fanout._not_live.pop(replaced, None)
        self._name = name
        fanout._members[name] = self
        if not self._live:
            fanout._not_live[self] = None

    def go_live(self) -> None:
        """Receive broadcasts made from now on (none made earlier); nothing
        changes if the connection does not accept them."""
        if self._live or not self.conn.accepts_broadcasts:
            return
        if self._placed > self._start:
            # Offsets from an earlier stay are still queued; the new share
            # starts further on, so they become bytes before it does.
            self._resolve_offsets()
        self._live = True
        self._fanout._live[self] = None
        self._fanout._not_live.pop(self, None)
        self._start = self._placed = self._fanout._size

    def leave(self) -> None:
        """No more deliveries; the broadcasts made so far are still written."""
        if self._live:
            self._place_broadcasts()
            self._stop()
        self._detach()

    def lost(self) -> None:
        """The connection is gone: nothing more is written, not even what is
        queued, and whoever waits to write stops waiting."""
        self.closed = True
        self._stop()
        self._detach()
        self._queue.clear()
        self.resume_writing()

    def queue(self, event: Event | PreparedEvent) -> None:
        """Send ``event`` with this loop turn's other output."""
        if self.closed:
            return
        try:
            data = self.conn.send(event)
        except LocalProtocolError as exc:
            log.error("not sent to %r: %s", self._owner, exc)
            if self._live and not self.conn.accepts_broadcasts:
                self._place_broadcasts()
                self._stop()
            return
        if self._live:
            self._place_broadcasts()
            if not self.conn.accepts_broadcasts:  # its Goodbye or Error: nothing after it
                self._stop()
        if not self._queue:
            self._fanout._mark(self)
        self._queue.append(data)

    def flush(self, turn_log: bytes | None = None) -> None:
        """Write what is queued. The fan-out passes the whole log at the end
        of the turn; a connection that writes early (a close, a replay step,
        a file chunk) writes with the broadcasts made so far."""
        log_so_far = self._fanout._log_so_far() if turn_log is None else turn_log
        queued, start = self._queue, self._start
        # Written up to here: an early write must not repeat them at the turn's end.
        self._start = self._placed = 0 if turn_log is not None else len(log_so_far)
        transport = self.transport
        if self.closed or transport is None:
            queued.clear()
            return
        end = len(log_so_far) if self._live else start
        if not queued:
            if end <= start:
                return
            whole = start == 0 and end == len(log_so_far)
            data = log_so_far if whole else log_so_far[start:end]
        else:
            pieces: list[bytes] = []
            position = start
            for item in queued:
                if isinstance(item, int):
                    pieces.append(log_so_far[position:item])
                    position = item
                else:
                    pieces.append(item)
            if self._live and end > position:
                pieces.append(log_so_far[position:end])
            queued.clear()
            data = b"".join(pieces)
        transport.write(data)
        if transport.get_write_buffer_size() > self._fanout.output_limit:
            log.info("%r is not reading: dropping it", self._owner)
            self._owner.too_slow()
            self.abort()

    def send_now(self, event: Event) -> None:
        self.queue(event)
        self.flush()

    def close(self, *, linger: bool = False) -> None:
        """Write what is queued, then close; nothing more is sent.
        ``transport.close`` waits until the bytes are written: never, for a
        peer that does not read (its owner aborts it later). With ``linger``
        only our stream ends (``write_eof``): the transport stays open for
        the peer's bytes, which its owner drops, until the owner closes it."""
        if self.closed or self.transport is None:
            return
        self.flush()
        self.closed = True
        if linger:
            self._lingering = True
            self.transport.write_eof()
        else:
            self.transport.close()

    def end_linger(self) -> None:
        """Close the transport of a ``close(linger=True)`` now (the peer is
        done, or the server stops); nothing to do for any other outbox."""
        if self._lingering and self.transport is not None:
            self._lingering = False
            self.transport.close()

    def abort(self) -> None:
        """Close at once: the unsent bytes, ours and the kernel's, are dropped
        (``SO_LINGER`` 0: the peer gets a reset), and ``connection_lost``
        follows in the next loop turn, which frees everything else."""
        self.closed = True
        transport = self.transport
        if transport is None:
            return
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed: nothing to drop
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_NOT)
        transport.abort()

    # -- backpressure: asyncio's pause_writing/resume_writing, for fetches ------

    @property
    def chunk_size(self) -> int:
        return self.conn.chunk_size

    @property
    def write_paused(self) -> bool:
        """The transport's buffer is over its high-water mark."""
        return self._write_paused

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        waiters, self._writable = self._writable, None
        if waiters is not None:
            waiters.set()

    async def writable(self) -> None:
        """Wait until the transport's buffer is below its high-water mark."""
        if self._write_paused:
            if self._writable is None:
                self._writable = asyncio.Event()
            await self._writable.wait()
        await asyncio.sleep(0)  # let other connections have the loop

    def _place_broadcasts(self) -> None:
        """The broadcasts made since the last placement come before what follows."""
        size = self._fanout._size
        if size > self._placed:
            if not self._queue:
                self._fanout._mark(self)
            self._queue.append(size)
            self._placed = size

    def _resolve_offsets(self) -> None:
        log_so_far = self._fanout._log_so_far()
        queued, position = self._queue, self._start
        for index, item in enumerate(queued):
            if isinstance(item, int):
                queued[index] = log_so_far[position:item]
                position = item

    def _stop(self) -> None:
        self._live = False
        fanout = self._fanout
        fanout._live.pop(self, None)
        if self._name is not None and fanout._members.get(self._name) is self:
            fanout._not_live[self] = None

    def _detach(self) -> None:
        fanout = self._fanout
        fanout._not_live.pop(self, None)
        if self._name is not None and fanout._members.get(self._name) is self:
            del fanout._members[self._name]
        self._name = None
