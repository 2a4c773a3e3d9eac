"""A chat connection over a WebSocket: the browser's ``ClientProtocol``.

Everything a TCP connection does, it does (login, presence, replay, the
hub's rules, the flood limit, the registry's connection limits): only the
framing differs. Each binary message in carries exactly one chatproto frame,
fed to the connection's ``ServerConnection`` as TCP bytes are; each frame out
is one binary message (``WebSocketWriter`` wraps what the outbox writes).

The handshake, the parsing of the browser's masked frames, ping, pong and
the closing handshake are the ``websockets`` library's sans-IO
``ServerProtocol``; the frames out are built here, because a server's frames
are unmasked and the outbox writes many at once (one header each and one
write per turn, instead of a library call and a list per frame).

An upload's body does not come over the WebSocket: once its ``FileAccepted``
is out the page PUTs the bytes (``http_app``), and ``upload_body`` feeds them
to the connection as the ``FileChunk`` and ``FileEnd`` frames a TCP client
would send, so the protocol's checks and the server's upload code are the
same for both. On a connection of version 5 (``speaks_upload_tickets``) an
``UploadTicket`` follows the ``FileAccepted``: 32 random bytes that the PUT
must show as ``Upload-Token`` (``upload_token_problem``), good for the
configured lifetime after the ticket or after the last byte taken, whichever
is later. Only the uploads still waiting for bytes keep a token, so a
connection holds at most ``MAX_OPEN_UPLOADS`` of them.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
import struct
from typing import Any

from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol

from chatproto import ErrorCode, FileChunk, FileEnd, UploadTicket, encode_event
from chatproto.limits import DEFAULT_MAX_FRAME_SIZE, HEADER_SIZE, UPLOAD_TOKEN_BYTES

from ..client import ClientProtocol
from ..context import ServerContext
from ..fanout import Writer
from ..hub import Hub
from ..log import log
from .sessions import WebSessions, session_cookie

#: The largest message a browser may send: one frame of the largest size
#: the server accepts (its Hello announces the default).
MAX_MESSAGE = HEADER_SIZE + DEFAULT_MAX_FRAME_SIZE
_CLOSE_NORMAL = b"\x88\x02\x03\xe8"  # close frame, code 1000, no reason
#: Headers of the small frames, made once: most frames out are small.
_SMALL_HEADERS = tuple(bytes((0x82, size)) for size in range(126))
_MAX_U32 = 2**32 - 1
_MEDIUM = struct.Struct("!BBH")
_LARGE = struct.Struct("!BBQ")


def _header(size: int) -> bytes:
    if size < 126:
        return _SMALL_HEADERS[size]
    if size < 65536:
        return _MEDIUM.pack(0x82, 126, size)
    return _LARGE.pack(0x82, 127, size)


def _missing(payload: bytes) -> int:
    """How many bytes ``payload`` lacks to be exactly one chatproto frame:
    0 when it is one, negative when it holds more than one."""
    if len(payload) < HEADER_SIZE:
        return HEADER_SIZE - len(payload)
    return HEADER_SIZE + int.from_bytes(payload[1:HEADER_SIZE]) - len(payload)


class _LastFraming:
    """The frames of the last bytes written, kept for the next writer: in a
    broadcast every live connection writes the very same turn log (the same
    object), so the fan-out frames it once per turn, not once per socket."""

    __slots__ = ("framed", "plain")

    def __init__(self) -> None:
        self.plain: bytes | None = None
        self.framed = b""

    def of(self, data: bytes) -> bytes:
        if data is self.plain:  # identity: this reference keeps it alive
            return self.framed
        framed = as_messages(data)
        self.plain, self.framed = data, framed
        return framed


def as_messages(data: bytes) -> bytes:
    """Whole chatproto frames as WebSocket binary messages, one per frame."""
    view = memoryview(data)
    pieces: list[bytes | memoryview] = []
    position, end = 0, len(data)
    while position < end:
        size = HEADER_SIZE + int.from_bytes(view[position + 1 : position + HEADER_SIZE])
        pieces.append(_header(size))
        pieces.append(view[position : position + size])
        position += size
    return b"".join(pieces)


_LAST = _LastFraming()  # one loop thread per server: no lock


class WebSocketWriter:
    """The outbox's writer for a WebSocket: each frame written becomes one
    binary message. The outbox writes whole frames only (events it encoded,
    and the turn's broadcast log cut at frame boundaries)."""

    __slots__ = ("_transport", "close_sent")

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        #: A close frame is out (ours or the library's reply): nothing more.
        self.close_sent = False

    def write(self, data: bytes) -> None:
        if not self.close_sent:
            self._transport.write(_LAST.of(data))

    def write_raw(self, data: bytes) -> None:
        """Bytes that are WebSocket frames already (the library's pongs, a close)."""
        self._transport.write(data)

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size()

    def close(self) -> None:
        self._send_close()
        self._transport.close()

    def write_eof(self) -> None:
        """The close frame (unless one is out) and, on plain TCP, its end of
        stream; the transport stays open for reading (over TLS, fully)."""
        self._send_close()
        if self._transport.can_write_eof():
            self._transport.write_eof()

    def _send_close(self) -> None:
        if not self.close_sent:
            self.close_sent = True
            self._transport.write(_CLOSE_NORMAL)

    def abort(self) -> None:
        self.close_sent = True
        self._transport.abort()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)


class _Ticket:
    """The token of one upload waiting for its bytes, and until when it is good."""

    __slots__ = ("good_until", "hex")

    def __init__(self, token: bytes, good_until: float) -> None:
        #: What ``Upload-Token`` must say: the token as lowercase hex.
        self.hex = token.hex().encode("ascii")
        self.good_until = good_until


class WebSocketClientProtocol(ClientProtocol):
    __slots__ = ("_opened", "_secure", "_sessions", "_tickets", "_ws", "_ws_writer",
                 "session_id")

    def __init__(self, ctx: ServerContext, hub: Hub, sessions: WebSessions, secure: bool) -> None:
        super().__init__(ctx, hub)
        self._sessions = sessions
        self._secure = secure
        self._ws = ServerProtocol(max_size=MAX_MESSAGE)
        self._ws_writer: WebSocketWriter | None = None
        self._opened = False
        self.session_id: str | None = None
        #: upload id -> its token, for the uploads of version 5 waiting for bytes.
        self._tickets: dict[int, _Ticket] | None = None

    # -- the handshake: before it, the connection is not a chat connection yet ----

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.address = str(peer[0]) if peer else "?"

    def _writer(self, transport: asyncio.Transport) -> Writer:
        self._ws_writer = WebSocketWriter(transport)
        return self._ws_writer

    def _handshake(self) -> None:
        ws, transport = self._ws, self.transport
        assert transport is not None
        events = ws.events_received()
        if not events or not isinstance(events[0], Request):
            if ws.handshake_exc is not None:
                log.info("WebSocket handshake from %s failed: %s", self.address, ws.handshake_exc)
                self._send_handshake_reply()
                transport.close()
            return  # the rest of the request is still to come
        request = events[0]
        refusal = self._refusal(request)
        if refusal is not None:
            log.info("WebSocket from %s refused: %s", self.address, refusal)
            response = ws.reject(403, refusal + "\n")
        else:
            response = ws.accept(request)
        if "Server" in response.headers:
            del response.headers["Server"]
        ws.send_response(response)
        self._send_handshake_reply()
        if refusal is not None:
            transport.close()
            return
        self._opened = True
        assert self.session_id is not None
        self._sessions.add(self.session_id, self)
        super().connection_made(transport)

    def _refusal(self, request: Request) -> str | None:
        """Why this upgrade is refused: a foreign page (its Origin is not ours),
        or no session cookie (the page sets one; scripts of other sites cannot)."""
        host = request.headers.get("Host")
        origin = request.headers.get("Origin")
        scheme = "https" if self._secure else "http"
        if host is None or origin != f"{scheme}://{host}":
            return "the WebSocket must come from this server's own page"
        self.session_id = session_cookie(request.headers.get_all("Cookie"))
        if self.session_id is None:
            return "no session cookie: open the page first"
        return None

    def _send_handshake_reply(self) -> None:
        assert self.transport is not None
        for data in self._ws.data_to_send():
            if data:
                self.transport.write(data)

    # -- frames in ----------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        ws = self._ws
        ws.receive_data(data)
        if not self._opened:
            self._handshake()
            if not self._opened:
                return
        for frame in ws.events_received():
            if self.closed:
                break
            if isinstance(frame, Frame):
                self._frame_received(frame)
        self._flush_control()

    def _frame_received(self, frame: Frame) -> None:
        if frame.opcode is Opcode.BINARY and frame.fin:
            payload = bytes(frame.data)
            missing = _missing(payload)
            if missing == 0:
                super().data_received(payload)
            else:
                code = ErrorCode.TRUNCATED if missing > 0 else ErrorCode.MALFORMED
                self._fail(code, "a WebSocket message must hold exactly one frame",
                           reason=f"protocol error ({code})")
        elif frame.opcode is Opcode.CLOSE:
            super().eof_received()  # like TCP's end of stream: no Goodbye, deactivated
        elif frame.opcode in (Opcode.TEXT, Opcode.CONT) or not frame.fin:
            self._fail(ErrorCode.MALFORMED, "only whole binary WebSocket messages are spoken",
                       reason="protocol error (malformed)")
        # ping: the library queued the pong; pong: a sign of life like any input

    def _flush_control(self) -> None:
        """Write what the library made (pongs, the reply to a close, the close of
        a broken stream), and close once the closing handshake is done."""
        ws, writer = self._ws, self._ws_writer
        if writer is None:
            return
        for data in ws.data_to_send():
            if data and not writer.close_sent:
                writer.write_raw(data)
        if ws.close_sent is not None:
            writer.close_sent = True
        if ws.state is State.CLOSING or ws.state is State.CLOSED:
            if ws.parser_exc is not None:
                if not self.closed:
                    log.info("%r broke the WebSocket protocol: %s", self, ws.parser_exc)
                    self._end_session(left=False, reason="WebSocket protocol error")
                    # Read on (the library drops it): a peer still sending the
                    # rest of an oversized message must get its close code (1009).
                    self._close(linger=True)
                return
            if self.closed:
                self.outbox.end_linger()  # the peer's close frame: it is done
            else:
                self._close()

    def eof_received(self) -> bool | None:
        self._ws.receive_eof()
        if self._opened:
            super().eof_received()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._opened:
            return  # refused at the handshake: never a chat connection
        if self.session_id is not None:
            self._sessions.remove(self.session_id, self)
        super().connection_lost(exc)

    # -- uploads whose body comes over HTTP ------------------------------------------------

    def upload_progress(self, upload_id: int) -> tuple[int, int] | None:
        """(bytes in so far, size) of an upload of this connection that the
        server accepted and whose bytes are still to come."""
        if self.closed or self.username is None:
            return None
        return self.conn.upload_progress(upload_id)

    def upload_accepted(self, upload_id: int) -> None:
        """The ``FileAccepted``, then on version 5 the ``UploadTicket`` whose
        token the PUT of the bytes must carry (docs/protocol.md 1.1)."""
        super().upload_accepted(upload_id)
        if not self.conn.speaks_upload_tickets:
            return  # version 4: the cookie alone, as before tickets
        tickets = self._tickets
        if tickets is None:
            tickets = self._tickets = {}
        # Tokens of uploads that no longer wait for bytes go: at most
        # MAX_OPEN_UPLOADS are left, whatever the connection does.
        for done in [u for u in tickets if self.conn.upload_progress(u) is None]:
            del tickets[done]
        lifetime = self.ctx.config.upload_token_lifetime
        token = secrets.token_bytes(UPLOAD_TOKEN_BYTES)
        tickets[upload_id] = _Ticket(token, self._clock() + lifetime)
        self.queue(UploadTicket(upload_id, token, min(round(lifetime * 1000), _MAX_U32)))

    def upload_token_problem(self, upload_id: int, presented: bytes) -> str | None:
        """Why ``presented`` (the PUT's ``Upload-Token``) may not send the
        bytes of ``upload_id``, or None when it may. A version 4 connection
        gets no ticket and asks for no token (its cookie was checked)."""
        if not self.conn.speaks_upload_tickets:
            return None
        ticket = None if self._tickets is None else self._tickets.get(upload_id)
        if ticket is None:
            return "this upload has no valid token"
        if not presented:
            return "the Upload-Token header is required"
        if self._clock() > ticket.good_until:
            assert self._tickets is not None
            del self._tickets[upload_id]  # and for good: the upload stays as it was
            return "the upload token has expired"
        if not hmac.compare_digest(presented, ticket.hex):
            return "wrong upload token"
        return None

    def upload_body(self, upload_id: int, data: bytes) -> bool:
        """Feed the next bytes of ``upload_id``'s body as a FileChunk frame (and
        its FileEnd once the size is reached); False when it cannot go on."""
        progress = self.upload_progress(upload_id)
        if progress is None:
            return False
        offset, size = progress
        frames = [encode_event(FileChunk(upload_id, offset, data))] if data else []
        finished = offset + len(data) >= size
        if finished:
            frames.append(encode_event(FileEnd(upload_id)))
        tickets = self._tickets
        if tickets is not None and upload_id in tickets:
            if finished:
                del tickets[upload_id]  # no byte more may come: the token is done
            else:  # a moving upload never expires
                tickets[upload_id].good_until = (
                    self._clock() + self.ctx.config.upload_token_lifetime)
        # Not through data_received: these bytes are not WebSocket messages.
        ClientProtocol.data_received(self, b"".join(frames))
        return not self.closed
