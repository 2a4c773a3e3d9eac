"""A connection's output: queued per loop turn, written once, bounded.

Events are queued on the connection and written with one ``write`` per loop
turn (the hub calls ``flush_output`` on every connection it marked dirty). A
connection whose unsent output grows past the configured bound is dropped as
too slow; fetches wait for the transport's buffer to drain (``writable``).
"""

from __future__ import annotations

import asyncio
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


class BufferedOutput:
    """The output half of ``ClientProtocol``, which sets these slots up and
    provides the attributes annotated below."""

    __slots__ = ("_out", "_writable", "_write_paused", "closed", "live")

    #: No more output: the transport is closing or closed.
    closed: bool
    #: Receives live messages (its replay, if any, has caught up).
    live: bool
    _out: list[bytes]
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

    def queue(self, event: Event | PreparedEvent) -> None:
        """Send ``event`` with this loop turn's other output."""
        if self.closed:
            return
        try:
            data = self.conn.send(event)
        except LocalProtocolError as exc:
            log.error("not sent to %r: %s", self, exc)
            if self.conn.state is not State.ACTIVE:
                self.live = False  # broadcasts must not bypass send on it any more
            return
        if not self._out:
            self.hub.mark_dirty(self)
        self._out.append(data)

    def queue_broadcast(self, data: bytes) -> None:
        """Queue the prepared bytes of a state-neutral broadcast (see
        ``chatproto.STATE_NEUTRAL_BROADCASTS``) without ``send``: the hub only
        calls this on live connections, whose state is ACTIVE."""
        if self.closed:
            return
        if not self._out:
            self.hub.mark_dirty(self)
        self._out.append(data)

    def send_now(self, event: Event) -> None:
        self.queue(event)
        self.flush_output()

    def flush_output(self) -> None:
        if self.closed or not self._out or self.transport is None:
            self._out.clear()
            return
        self.transport.write(b"".join(self._out))
        self._out.clear()
        if self.transport.get_write_buffer_size() > self.ctx.config.output_buffer_limit:
            log.info("%r is not reading: dropping it", self)
            self._end_session(left=False, reason="too slow (output buffer full)")
            self.closed = True
            self.transport.abort()

    async def writable(self) -> None:
        """Wait until the transport's buffer is below its high-water mark."""
        if self._write_paused:
            if self._writable is None:
                self._writable = asyncio.Event()
            await self._writable.wait()
        await asyncio.sleep(0)  # let other connections have the loop
