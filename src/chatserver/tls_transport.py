"""TLS terminated in the connection's own protocol: an ``ssl.SSLObject`` per
connection, driven by the bytes of its plain TCP transport.

Why not ``loop.create_server(ssl=...)``: asyncio's TLS transport sits in
front of every connection with a 256 KiB read buffer and buffers of its own,
whatever the connection carries (278 KiB of server RSS per idle TLS
connection was measured). Here a connection keeps what OpenSSL keeps for it,
its ``SSL`` (keys, sequence numbers, the session), and no buffer: CPython
sets ``SSL_MODE_RELEASE_BUFFERS`` on every context, so OpenSSL frees its own
record buffers whenever they are empty, and the memory BIOs are shared.

Theory of operation. One ``TLSEndpoint`` per server holds what all its
connections share: the context, one incoming and one outgoing
``ssl.MemoryBIO`` and one scratch buffer for ``SSLObject.read``. Every
connection's ``SSLObject`` is wrapped around the same two BIOs. That is safe
because a server's connections all run on its loop's one thread and every
call into an ``SSLObject`` is made by a ``ServerTLS`` method that leaves both
BIOs empty before it returns:

- *in*: ``receive`` writes what the socket gave into the incoming BIO and
  calls ``do_handshake``/``read`` until OpenSSL has taken all of it (the part
  of a record still missing waits in that connection's own record buffer);
  what follows the peer's close_notify or a fatal error is discarded.
- *out*: every call that may make records (the handshake; ``read``, which
  may answer a key update or send an alert; ``write``; ``unwrap``, which
  sends close_notify) is followed by moving the outgoing BIO's bytes to this
  connection's transport.

A memory BIO never gives back what it grew to: one pair per connection would
keep, for as long as the connection lives, the largest burst it ever sent or
received (a login in a big room receives its participant list in one
write). Shared, the server keeps one pair of such buffers for all.

Plaintext written before the handshake is done waits in ``_pending`` and goes
out when it is. ``close`` sends close_notify, then closes the transport once
it has sent what it holds; a close asked for during the handshake waits for
it (the server's sweeper aborts a peer that never finishes). The peer's
close_notify ends its stream as a TCP EOF does (``peer_closed``). An
``ssl.SSLError`` from ``receive`` (a failed handshake, an alert from the
peer, a bad record, anything but a ClientHello) reaches the protocol after
the alert OpenSSL made, if any, is on its way; the connection is then only
closed. Renegotiation is refused (``tls.server_context``); TLS 1.3 key
updates happen inside ``read``.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from typing import Any

#: Plaintext taken per ``receive`` into the scratch buffer before it is
#: copied out: several records go to the connection in one piece.
SCRATCH_SIZE = 256 * 1024
#: Plaintext encrypted per ``SSLObject.write``: bounds the shared outgoing BIO
#: (a fetch or a replay step may write megabytes at once) at a cost per slice
#: that is small beside encrypting it.
WRITE_SLICE = 64 * 1024


def failure_reason(exc: ssl.SSLError) -> str:
    """What went wrong in a TLS handshake or record, for the log."""
    return (exc.reason or type(exc).__name__).lower().replace("_", " ")


class TLSEndpoint:
    """What every TLS connection of one server shares; used by one thread only."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self.context = context
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.scratch = memoryview(bytearray(SCRATCH_SIZE))

    def wrap(self) -> ssl.SSLObject:
        return self.context.wrap_bio(self.incoming, self.outgoing, server_side=True)

    @property
    def idle(self) -> bool:
        """Both shared BIOs are empty, as every ``ServerTLS`` call leaves them."""
        return not self.incoming.pending and not self.outgoing.pending


class ServerTLS:
    """One connection's TLS in front of its transport; also the writer its
    outbox writes through (``fanout.Writer``)."""

    # One per TLS connection, thousands of them: no instance dict.
    __slots__ = (
        "_closing", "_endpoint", "_failed", "_lingering", "_pending", "_sslobj", "_transport",
        "established", "peer_closed",
    )

    def __init__(self, endpoint: TLSEndpoint, transport: asyncio.Transport) -> None:
        self._endpoint = endpoint
        self._transport = transport
        self._sslobj = endpoint.wrap()
        #: Plaintext written before the handshake was done.
        self._pending: list[bytes] | None = None
        self.established = False
        #: The peer sent close_notify: its stream has ended.
        self.peer_closed = False
        #: ``close`` or ``abort`` was called; nothing more is written.
        self._closing = False
        #: A fatal TLS error: the ``SSLObject`` can do nothing more.
        self._failed = False
        #: Closed by ``write_eof``: the TCP connection is still open for reading.
        self._lingering = False

    # -- bytes in ------------------------------------------------------------------

    def receive(self, data: bytes) -> bytes:
        """The plaintext in ``data`` read from the socket (``b""`` if none
        yet). Drives the handshake; raises ``ssl.SSLError`` when TLS failed."""
        if self._failed or self.peer_closed or (self._closing and self.established):
            return b""
        incoming = self._endpoint.incoming
        incoming.write(data)
        try:
            if not self.established and not self._handshake():
                return b""
            if self._closing:
                return b""  # closed during the handshake: nothing more is read
            return self._read_all()
        except ssl.SSLError:
            self._failed = True
            raise
        finally:
            if incoming.pending:
                incoming.read()  # after close_notify or an error: not part of the stream
            self._send_records()

    def _handshake(self) -> bool:
        try:
            self._sslobj.do_handshake()
        except ssl.SSLWantReadError:
            return False
        self.established = True
        pending, self._pending = self._pending, None
        if pending:
            self._encrypt(b"".join(pending))
        if self._closing:
            self._shutdown()  # asked for during the handshake, once its reply was out
        return True

    def _read_all(self) -> bytes:
        # typeshed has read() return bytes; given a buffer, it returns the count.
        read: Callable[[int, memoryview], int] = self._sslobj.read  # type: ignore[assignment]
        scratch = self._endpoint.scratch
        size = len(scratch)
        filled = 0
        full: list[bytes] = []
        while True:
            try:
                count = read(size - filled, scratch[filled:])
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:  # close_notify after our own
                count = 0
            if count == 0:  # close_notify
                self.peer_closed = True
                break
            filled += count
            if filled == size:
                full.append(bytes(scratch))
                filled = 0
        if not full:
            return bytes(scratch[:filled]) if filled else b""
        full.append(bytes(scratch[:filled]))
        return b"".join(full)

    # -- bytes out: fanout.Writer ---------------------------------------------------

    def write(self, data: bytes) -> None:
        if self._closing or self._failed:
            return
        if not self.established:
            if self._pending is None:
                self._pending = []
            self._pending.append(data)
            return
        self._encrypt(data)

    def _encrypt(self, data: bytes) -> None:
        try:
            if len(data) <= WRITE_SLICE:
                self._sslobj.write(data)
            else:
                view = memoryview(data)
                for start in range(0, len(data), WRITE_SLICE):
                    self._sslobj.write(view[start : start + WRITE_SLICE])
                    self._send_records()
        except ssl.SSLError:
            # Not seen in practice (memory BIOs never block): the stream is
            # unusable, so drop the connection rather than raise into the fan-out.
            self._failed = True
            self._transport.abort()
        finally:
            self._send_records()

    def get_write_buffer_size(self) -> int:
        """Encrypted bytes the transport holds, plus plaintext held for the handshake."""
        waiting = sum(map(len, self._pending)) if self._pending else 0
        return self._transport.get_write_buffer_size() + waiting

    def close(self) -> None:
        """close_notify, then close the transport once it has sent what it holds."""
        if self._closing:
            if self._lingering:
                self._lingering = False
                self._transport.close()
            return
        self._closing = True
        if self._failed:
            self._transport.close()
        elif self.established:
            self._shutdown()
        elif not self._pending:
            self._transport.close()  # nothing to say: no need to finish the handshake

    def write_eof(self) -> None:
        """As ``close``, but the TCP connection only half-closes: what the
        peer still sends is read and dropped until ``close`` or ``abort``."""
        if self._closing:
            return
        self._lingering = True
        self.close()

    def abort(self) -> None:
        self._closing = True
        self._lingering = False
        self._transport.abort()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "ssl_object":
            return self._sslobj
        return self._transport.get_extra_info(name, default)

    def _shutdown(self) -> None:
        try:
            self._sslobj.unwrap()
        except ssl.SSLError:
            pass  # SSLWantReadError: close_notify is sent; the peer's is not awaited
        finally:
            self._send_records()
        if self._lingering:
            self._transport.write_eof()
        else:
            self._transport.close()

    def _send_records(self) -> None:
        """Move what OpenSSL wrote to this connection's transport (the shared
        BIO is emptied even when the transport is gone)."""
        outgoing = self._endpoint.outgoing
        if outgoing.pending:
            records = outgoing.read()
            if not self._transport.is_closing():
                self._transport.write(records)
