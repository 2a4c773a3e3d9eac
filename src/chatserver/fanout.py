"""A connection's output: queued per loop turn, written once, bounded.

Events are queued on the connection and written with one ``write`` per loop
turn (the hub calls ``flush_output`` on every connection it marked dirty and
on every live one when there are broadcasts). Broadcasts are not queued per
connection at all: the hub keeps one list of this turn's broadcast frames and
hands every live connection the same joined bytes at the end of the turn. A
live connection's own output (a reply, a private message) records how much
of that list came before it (an ``int`` in ``_out``), so each connection's
bytes keep the order in which they were produced. A connection whose unsent
output grows past the configured bound is dropped as too slow; fetches wait
for the transport's buffer to drain (``writable``).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from typing import TYPE_CHECKING

from chatproto import (
    Event,
    LocalProtocolError,
    PreparedEvent,
    ServerConnection,
    State,
)

from .log import log

if TYPE_CHECKING:
    from .connections import ServerContext
    from .hub import Hub

#: ``SO_LINGER`` on, 0 seconds: ``close`` discards unsent data and resets.
_LINGER_NOT = struct.pack("ii", 1, 0)


class BufferedOutput:
    """The output half of ``ClientProtocol``, which sets these slots up and
    provides the attributes annotated below."""

    __slots__ = ("_log_from", "_log_pos", "_out", "_writable", "_write_paused", "closed", "live")

    #: No more output: the transport is closing or closed.
    closed: bool
    #: Receives live messages (its replay, if any, has caught up); only the
    #: hub's ``go_live``/``stop_live`` below change it.
    live: bool
    #: This turn's output: bytes of its own, and ints: "the hub's broadcasts
    #: up to this offset come here".
    _out: list[bytes | int]
    #: Where this connection's share of the turn's broadcasts starts (it went
    #: live, or flushed on its own, after the others) and how far it has been
    #: placed in ``_out``.
    _log_from: int
    _log_pos: int
    #: The transport's buffer is over its high-water mark.
    _write_paused: bool
    #: Set when writing resumes; made only when someone waits for it.
    _writable: asyncio.Event | None
    conn: ServerConnection
    ctx: ServerContext
    hub: Hub
    transport: asyncio.Transport | None

    def _end_session(self, *, left: bool, reason: str = "") -> None:
        raise NotImplementedError

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

    def go_live(self) -> None:
        """Receive broadcasts from now on (none of those made earlier)."""
        self.live = True
        self._log_from = self._log_pos = self.hub.broadcast_size

    def stop_live(self) -> None:
        """Receive no more broadcasts; those made so far are still sent."""
        if self.live:
            self._place_broadcasts()
            self.live = False

    def _place_broadcasts(self) -> None:
        size = self.hub.broadcast_size
        if size > self._log_pos:
            if not self._out:
                self.hub.mark_dirty(self)
            self._out.append(size)
            self._log_pos = size

    def queue(self, event: Event | PreparedEvent) -> None:
        """Send ``event`` with this loop turn's other output."""
        if self.closed:
            return
        try:
            data = self.conn.send(event)
        except LocalProtocolError as exc:
            log.error("not sent to %r: %s", self, exc)
            if self.conn.state is not State.ACTIVE:
                self.stop_live()  # broadcasts must not bypass send on it any more
            return
        if self.live:
            self._place_broadcasts()
        if not self._out:
            self.hub.mark_dirty(self)
        self._out.append(data)

    def send_now(self, event: Event) -> None:
        self.queue(event)
        self.flush_output()

    def flush_output(self, broadcasts: bytes | None = None) -> None:
        """Write what is queued; the hub passes this turn's joined broadcasts
        at the end of the turn, anyone else flushes with those made so far."""
        turn_over = broadcasts is not None
        if broadcasts is None:
            broadcasts = self.hub.broadcasts_so_far()
        out, start = self._out, self._log_from
        # Consumed up to here: a flush before the turn's end must not repeat them.
        self._log_from = self._log_pos = 0 if turn_over else len(broadcasts)
        if self.closed or self.transport is None:
            out.clear()
            return
        end = len(broadcasts) if self.live else start
        if not out:
            if end <= start:
                return
            data = broadcasts if start == 0 and end == len(broadcasts) else broadcasts[start:end]
        else:
            pieces: list[bytes] = []
            position = start
            for item in out:
                if isinstance(item, int):
                    pieces.append(broadcasts[position:item])
                    position = item
                else:
                    pieces.append(item)
            if self.live and end > position:
                pieces.append(broadcasts[position:end])
            out.clear()
            data = b"".join(pieces)
        self.transport.write(data)
        if self.transport.get_write_buffer_size() > self.ctx.config.output_buffer_limit:
            log.info("%r is not reading: dropping it", self)
            self._end_session(left=False, reason="too slow (output buffer full)")
            self.abort()

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

    async def writable(self) -> None:
        """Wait until the transport's buffer is below its high-water mark."""
        if self._write_paused:
            if self._writable is None:
                self._writable = asyncio.Event()
            await self._writable.wait()
        await asyncio.sleep(0)  # let other connections have the loop
