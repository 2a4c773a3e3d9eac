"""The first protocol of every web connection: TLS, then the request line.

Theory of operation. The listener makes a ``WebFront`` per accepted TCP
connection. Over TLS it terminates TLS itself, as the TCP listener does
(``tls_transport.ServerTLS``: no 256 KiB buffer per connection); without TLS
it reads the plain bytes. Either way it gathers the first request's head (at
most ``MAX_HEAD`` bytes, within the login timeout) and looks at its request
line only:

- ``GET /ws``: the connection becomes a ``WebSocketClientProtocol``, a chat
  connection like a TCP one (``websocket.py``), which answers the handshake;
- anything else: the connection goes to an ``HttpConnection``
  (``http_app.py``) with the bytes read so far, for this request and every
  later one on it (a browser opens a new connection for a WebSocket).

Without TLS the front then steps aside (``transport.set_protocol``); with
TLS it stays in between, passing plaintext in and encryption out through an
``InnerTransport``. A plain-HTTP request to a TLS port (a browser told only
``host:8080``) gets a redirect to ``https://`` instead of a TLS error.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from typing import Any

from ..log import log
from ..tls_transport import ServerTLS, TLSEndpoint, failure_reason

#: The first request's head must fit (request line and headers).
MAX_HEAD = 16 * 1024
_TLS_HANDSHAKE = 0x16  # the first byte of every ClientHello record

#: Makes the protocol that takes a connection over once its head is in:
#: head bytes -> protocol, or None to refuse it.
Dispatch = Callable[[bytes], asyncio.BaseProtocol | None]


class InnerTransport(asyncio.Transport):
    """The transport a web connection's protocol sees when TLS is in between:
    writes are encrypted by the front's ``ServerTLS``, everything else is the
    TCP transport's."""

    def __init__(self, front: WebFront, raw: asyncio.Transport, tls: ServerTLS) -> None:
        super().__init__()
        self._front = front
        self._raw = raw
        self._tls = tls
        self._closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._tls.write(bytes(data))

    def writelines(self, list_of_data: Any) -> None:
        self._tls.write(b"".join(list_of_data))

    def close(self) -> None:
        self._closing = True
        self._tls.close()

    def abort(self) -> None:
        self._closing = True
        self._tls.abort()

    def is_closing(self) -> bool:
        return self._closing or self._raw.is_closing()

    def can_write_eof(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return self._tls.get_write_buffer_size()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._raw.set_write_buffer_limits(high, low)

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._raw.get_write_buffer_limits()

    def pause_reading(self) -> None:
        self._raw.pause_reading()

    def resume_reading(self) -> None:
        self._raw.resume_reading()

    def is_reading(self) -> bool:
        return self._raw.is_reading()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._tls.get_extra_info(name, default)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._front.inner = protocol

    def get_protocol(self) -> asyncio.BaseProtocol:
        assert self._front.inner is not None
        return self._front.inner


class WebFront(asyncio.Protocol):
    __slots__ = ("_deadline", "_dispatch", "_endpoint", "_first", "_head", "_redirect", "_tls",
                 "_transport", "inner")

    def __init__(self, dispatch: Dispatch, endpoint: TLSEndpoint | None, timeout: float) -> None:
        self._dispatch = dispatch
        self._endpoint = endpoint
        self._tls: ServerTLS | None = None
        self._transport: asyncio.Transport | None = None
        self._head = bytearray()
        self._first = True
        #: A plain-HTTP request came to the TLS port: answered with a redirect.
        self._redirect = False
        #: The connection takes over once the head is in; None until then.
        self.inner: asyncio.BaseProtocol | None = None
        self._deadline: asyncio.TimerHandle | None = asyncio.get_running_loop().call_later(
            timeout, self._too_late
        )

    # -- asyncio.Protocol ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        if self._endpoint is not None:
            self._tls = ServerTLS(self._endpoint, transport)

    def data_received(self, data: bytes) -> None:
        tls = self._tls
        if tls is not None and self._first and data:
            self._first = False
            self._redirect = data[0] != _TLS_HANDSHAKE
        if tls is not None and not self._redirect:
            try:
                data = tls.receive(data)
            except ssl.SSLError as exc:
                self._tls_failed(exc)
                return
        if self.inner is not None:
            if data:
                self.inner.data_received(data)  # type: ignore[attr-defined]
            if tls is not None and tls.peer_closed:
                self.inner.eof_received()  # type: ignore[attr-defined]
            return
        if data:
            self._gather(data)

    def eof_received(self) -> bool | None:
        if self.inner is not None:
            return self.inner.eof_received()  # type: ignore[attr-defined, no-any-return]
        self._give_up()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        if self.inner is not None:
            self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        if self.inner is not None:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.inner is not None:
            self.inner.resume_writing()

    # -- the head ---------------------------------------------------------------------

    def _gather(self, data: bytes) -> None:
        head = self._head
        head += data
        if b"\r\n\r\n" not in head:
            if len(head) > MAX_HEAD:
                self._refuse(b"431 Request Header Fields Too Large")
            return
        self._cancel_deadline()
        if self._redirect:
            self._send_redirect(bytes(head))
            return
        data, self._head = bytes(head), bytearray()
        inner = self._dispatch(data)
        if inner is None:
            self._refuse(b"400 Bad Request")
            return
        self._hand_over(inner, data)

    def _hand_over(self, inner: asyncio.BaseProtocol, data: bytes) -> None:
        raw = self._transport
        assert raw is not None
        self.inner = inner
        if self._tls is None:
            raw.set_protocol(inner)  # plain: out of the way for good
            inner.connection_made(raw)
        else:
            inner.connection_made(InnerTransport(self, raw, self._tls))
        inner.data_received(data)  # type: ignore[attr-defined]

    def _send_redirect(self, head: bytes) -> None:
        host, target = _host_and_target(head)
        if host is None:
            self._refuse(b"400 Bad Request")
            return
        location = f"https://{host}{target}".encode("ascii", "replace")
        self._write_plain(
            b"HTTP/1.1 308 Permanent Redirect\r\nLocation: " + location
            + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )

    def _refuse(self, status: bytes) -> None:
        self._cancel_deadline()
        self._write_plain(
            b"HTTP/1.1 " + status + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )

    def _write_plain(self, response: bytes) -> None:
        """A last answer before closing, encrypted when TLS is up."""
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        if self._tls is not None and not self._redirect:
            self._tls.write(response)
            self._tls.close()
        else:
            transport.write(response)
            transport.close()

    # -- endings --------------------------------------------------------------------------

    def _tls_failed(self, exc: ssl.SSLError) -> None:
        peer = self._transport.get_extra_info("peername") if self._transport else None
        log.info("TLS with %s (web) failed: %s", peer[0] if peer else "?", failure_reason(exc))
        self._cancel_deadline()
        # Closed, not aborted: the alert OpenSSL made goes out first. The
        # protocol inside, if any, hears of it in connection_lost.
        if self._tls is not None:
            self._tls.close()

    def _too_late(self) -> None:
        self._deadline = None
        if self.inner is None:
            self._give_up()

    def _give_up(self) -> None:
        self._cancel_deadline()
        if self._transport is not None:
            self._transport.abort()

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None


def _host_and_target(head: bytes) -> tuple[str | None, str]:
    """The Host header and the request target of a plain request's head."""
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    target = parts[1].decode("ascii", "replace") if len(parts) == 3 else "/"
    if not target.startswith("/"):
        target = "/"
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"host":
            host = value.strip().decode("ascii", "replace")
            if host and all(c.isalnum() or c in ".-:[]" for c in host):
                return host, target
    return None, target
