"""The protocol edge over TLS: a ``ClientProtocol`` whose bytes pass through
its connection's ``tls_transport.ServerTLS`` (TLS is the server's default).

The protocol is made when the TCP connection is accepted, not after the
handshake: the connection is counted and refused as a plain one is, and its
login deadline covers the handshake too (a peer that sends nothing, or half
a ClientHello, is closed by it). Once the handshake is done the deadline
starts again for the login, as long as it was with asyncio's own TLS
(``ssl_handshake_timeout``, then the login timeout).
"""

from __future__ import annotations

import asyncio
import ssl

from .client import ClientProtocol
from .context import ServerContext
from .fanout import Writer
from .hub import Hub
from .log import log
from .tls_transport import ServerTLS, TLSEndpoint, failure_reason


class TLSClientProtocol(ClientProtocol):
    __slots__ = ("_endpoint", "_tls")

    def __init__(self, ctx: ServerContext, hub: Hub, endpoint: TLSEndpoint) -> None:
        super().__init__(ctx, hub)
        self._endpoint = endpoint
        self._tls: ServerTLS | None = None

    def _writer(self, transport: asyncio.Transport) -> Writer:
        self._tls = ServerTLS(self._endpoint, transport)
        return self._tls

    def data_received(self, data: bytes) -> None:
        tls = self._tls
        if tls is None:
            return
        # Fed even once closed: a close asked for during the handshake (a
        # refusal with its Error frame) waits for the handshake to finish.
        established = tls.established
        try:
            plaintext = tls.receive(data)
        except ssl.SSLError as exc:
            self._tls_failed(exc)
            return
        if tls.established and not established:
            self._login_deadline = self._clock() + self.ctx.config.login_timeout
        if plaintext:
            super().data_received(plaintext)
        if tls.peer_closed:
            super().eof_received()  # close_notify: the end of the peer's stream

    def _tls_failed(self, exc: ssl.SSLError) -> None:
        reason = failure_reason(exc)
        log.info("TLS with %s failed: %s", self.address, reason)
        self._end_session(left=False, reason=f"TLS failed ({reason})")
        self._close()

    def _login_too_late(self, now: float) -> None:
        if self._tls is not None and not self._tls.established:
            log.info("connection from %s closed: no TLS handshake in time", self.address)
            self._end_session(left=False, reason="no TLS handshake in time")
            self.abort()  # no Error frame can reach it before the handshake
            return
        super()._login_too_late(now)
