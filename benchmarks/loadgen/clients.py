"""The load generator's clients: the socket plumbing and our protocol
(the IRC dialect is in ``irc.py``, the send times in ``stamps.py``).

A client is a non-blocking socket plus just enough protocol to log in, send
a chat line and pull the send timestamps out of what it receives. Every
message's text is exactly ``TEXT_BYTES`` long and begins with the sender's
``time.time_ns()`` in 20 digits (the clock of the kernel's receive
timestamps); both protocols put the text last, so
the receiver reads the timestamp without parsing anything else.

The receive path is the generator's hot loop (one call per read, millions
of deliveries a second), so both dialects take the same shortcut: when
every sender's name has the same width, every delivery is a frame (a line)
of the same length. A read of such deliveries is checked and its send times
are cut out with strided slices, in C, a dozen per read however many
deliveries it holds (``Run``). Anything else (a ping, a presence, a refusal,
names of other widths) goes through the general walker (our protocol) or a
regular expression (IRC). Turning the digits into numbers waits until the
run is over (``latencies_ns``).
"""

from __future__ import annotations

import functools
import socket
import ssl
import struct
import time

from chatproto import (
    NEED_DATA,
    ChatMessage,
    ChatRejected,
    ClientConnection,
    ConnectionClosed,
    Error,
    Goodbye,
    Hello,
    Login,
    LoginAccepted,
    LoginRejected,
    Ping,
    Pong,
    SendChat,
)
from chatproto._codec import decode_payload
from chatproto.limits import HEADER_SIZE
from chatproto.wire import HEADER, LAYOUT_BY_CLASS

from .stamps import (
    KEPT_DIGITS,
    KEPT_FROM,
    KEPT_FROM_END,
    STAMP_BYTES,
    TEXT_BYTES,
    Run,
    Stamps,
    joined,
)

_unpack_header = HEADER.unpack_from
_SEND_CHAT = LAYOUT_BY_CLASS[SendChat]
#: A SendChat frame's header and fixed part (client_id, the lengths of
#: recipient and text), packed at once: see ``ChatClient.chat``.
_pack_send_chat = struct.Struct("!BI" + _SEND_CHAT.struct.format[1:]).pack
_CHAT_CODE = LAYOUT_BY_CLASS[ChatMessage].type_code
_LAYOUTS = {layout.type_code: layout for layout in LAYOUT_BY_CLASS.values()}
_SPECIAL_CODES = frozenset(
    LAYOUT_BY_CLASS[cls].type_code
    for cls in (Ping, Error, Goodbye, LoginAccepted, LoginRejected, ChatRejected)
)
#: ``Login.last_seen_seq`` that asks for no replay of older history.
NO_REPLAY = 2**63 - 1
PASSWORD = "bench-password"
@functools.cache
def _chat_run(size: int) -> tuple[Run, bytes]:
    """The run of ChatMessage frames of ``size`` bytes, and their header."""
    header = HEADER.pack(_CHAT_CODE, size - HEADER_SIZE)
    # Under 6 frames the walker is as quick (0.3 us a frame).
    return Run.of(size, tuple(enumerate(header)), size - TEXT_BYTES, 6), header


def message_text(sender: int, number: int) -> str:
    """100 ASCII bytes: send time, sender, message number, padding."""
    head = f"{time.time_ns():020d} {sender:05d} {number:09d} "
    return head + "x" * (TEXT_BYTES - len(head))


#: A non-blocking socket (plain or TLS) has nothing to give or take right now.
WOULD_BLOCK = (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError)


def tls_context() -> ssl.SSLContext:
    """The generator's TLS: encryption without checking the server's
    self-signed certificate (the benchmark measures the cost, not the trust)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def receive(sock: socket.socket, size: int) -> bytes:
    """What a readable socket has (``b""``: closed); raises ``BlockingIOError``
    (or an ``ssl.SSLWant...Error``) when there is nothing.

    A TLS socket gives one record (16 KiB) per ``recv`` and may keep
    decrypted bytes that no readiness event will announce: drain it.
    """
    if not isinstance(sock, ssl.SSLSocket):
        return sock.recv(size)
    parts: list[bytes] = []
    while True:
        try:
            data = sock.recv(size)
        except WOULD_BLOCK:
            if parts:
                break
            raise
        if not data:
            break
        parts.append(data)
    return b"".join(parts)


def tune_socket(sock: socket.socket) -> None:
    """No Nagle, no delayed ACKs: otherwise 40 ms timers dominate latency."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    quickack = getattr(socket, "TCP_QUICKACK", None)
    if quickack is not None:
        sock.setsockopt(socket.IPPROTO_TCP, quickack, 1)


class BenchClient:
    """One connection of the generator. Subclasses speak one protocol."""

    #: Whether the server delivers a message back to its sender.
    echoes_to_sender = True

    def __init__(self, index: int, name: str) -> None:
        self.index = index
        self.name = name
        self.sock: socket.socket | None = None
        self.ready = False
        self.failure: str | None = None
        self.outbox = bytearray()  # bytes the socket did not take yet
        self.refused = 0  # chat messages the server refused (ChatRejected)
        self.refusal = ""

    def greeting(self) -> bytes:
        """The first bytes to send once connected."""
        raise NotImplementedError

    def handshake(self, data: bytes) -> None:
        """Consume handshake bytes; set ``ready`` or ``failure``."""
        raise NotImplementedError

    def chat(self, text: str) -> bytes:
        raise NotImplementedError

    def start_counting(self) -> None:
        """Called once logged in, before traffic: switch to the cheapest reader."""

    def deliveries(self, data: bytes) -> list[Stamps]:
        """Where the send timestamps of the chat messages in ``data`` are.

        Parsing them into numbers waits until the run is over: ``int()`` of
        each would cost as much as everything else the generator does.
        Answers pings, counts refusals and sets ``failure`` on the way.
        """
        raise NotImplementedError

    def write(self, data: bytes) -> None:
        """Send now what the socket takes; keep the rest for ``flush``."""
        assert self.sock is not None
        if self.outbox:
            self.outbox += data
            return
        try:
            sent = self.sock.send(data)
        except WOULD_BLOCK:
            sent = 0
        if sent < len(data):
            self.outbox += data[sent:]

    def send_frames(self, data: bytes) -> None:
        """Send whole protocol frames (a pong): as they are over TCP; a
        WebSocket client wraps each in a message of its own."""
        self.write(data)

    def flush(self) -> None:
        assert self.sock is not None
        if self.outbox:
            try:
                sent = self.sock.send(self.outbox)
            except WOULD_BLOCK:
                return
            del self.outbox[:sent]


class ChatClient(BenchClient):
    """Our protocol through the sans-IO ``ClientConnection`` (no session layer)."""

    echoes_to_sender = True

    def __init__(self, index: int, name: str) -> None:
        super().__init__(index, name)
        self.conn = ClientConnection()
        self.client_id = 0
        self.counting = False
        self.pending = b""  # a partial frame at the end of the last read
        # The ChatMessage frames the last chat frame looked like.
        self.run: Run | None = None
        self.frame_header = b""

    def greeting(self) -> bytes:
        conn = self.conn
        return conn.send(conn.hello("chat-bench")) + conn.send(
            Login(self.name, PASSWORD, NO_REPLAY)
        )

    def handshake(self, data: bytes) -> None:
        conn = self.conn
        conn.receive_data(data)
        while (event := conn.next_event()) is not NEED_DATA:
            if isinstance(event, LoginAccepted):
                self.ready = True
            elif isinstance(event, LoginRejected):
                self.failure = f"login refused: {event.reason} {event.message}"
            elif isinstance(event, Ping):
                self.send_frames(conn.send(Pong(event.nonce)))
            elif isinstance(event, Error | Goodbye | ConnectionClosed):
                self.failure = f"server closed during login: {event}"
            elif not isinstance(event, Hello):
                continue

    def chat(self, text: str) -> bytes:
        """The bytes of ``conn.send(SendChat(text, None, client_id))`` (a test
        holds them equal) without its checks, which would cost 2 µs of the
        generator's time per message. Only for a logged-in client."""
        self.client_id += 1
        data = text.encode()
        size = len(data)
        layout = _SEND_CHAT
        header = _pack_send_chat(
            layout.type_code, layout.fixed_size + size, self.client_id, 0, size
        )
        return header + data

    def start_counting(self) -> None:
        """Switch reading from ``ClientConnection`` to the frame walker below.

        Decoding every delivery into an event costs a few microseconds; at
        hundreds of thousands of deliveries a second that would make the
        generator, not the server, the bottleneck. The walker follows the
        same framing, reads the timestamp at its fixed place at the end of a
        ChatMessage frame and still answers pings through the connection.
        """
        if not self.counting:
            if self.conn.trailing_data:
                raise RuntimeError("a partial frame is still buffered; settle first")
            self.counting = True
            self.pending = b""

    def deliveries(self, data: bytes) -> list[Stamps]:
        if not self.counting:
            return self._decoded_deliveries(data)
        if self.pending:
            data = self.pending + data
        run = self.run
        if run is None:
            return self._walk(data, 0)
        if len(data) < run.least_bytes:
            # Mostly one frame (a paced run's read), perhaps with part of the next.
            size = run.size
            rest = len(data) - size
            if rest >= 0 and data[:HEADER_SIZE] == self.frame_header and (
                rest < HEADER_SIZE or HEADER_SIZE + _unpack_header(data, size)[1] > rest
            ):
                self.pending = data[size:]
                return [data[run.stamp_at : run.stamp_at + KEPT_DIGITS]]
            return self._walk(data, 0)
        if (taken := run.take(data)) is not None:
            stamps, whole = taken
            rest = len(data) - whole
            # What is left is shorter than a delivery but may be a whole ping.
            if rest >= HEADER_SIZE and HEADER_SIZE + _unpack_header(data, whole)[1] <= rest:
                return [stamps, *self._walk(data, whole)]
            self.pending = data[whole:]
            return [stamps]
        return self._walk(data, 0)

    def _walk(self, data: bytes, pos: int) -> list[Stamps]:
        """Frame by frame from ``pos``: the general case (and how the frame shape is learnt)."""
        pieces: list[Stamps] = []
        stamps: list[bytes] = []
        end = len(data)
        unpack, header, chat, back = _unpack_header, HEADER_SIZE, _CHAT_CODE, KEPT_FROM_END
        size = 0 if self.run is None else self.run.size
        while end - pos >= header:
            code, length = unpack(data, pos)
            stop = pos + header + length
            if stop > end:
                break
            if code == chat:
                kept = stop - back
                stamps.append(data[kept : kept + KEPT_DIGITS])
                if stop - pos != size:
                    size = stop - pos
                    self.run, self.frame_header = _chat_run(size)
                pos = stop
                continue
            if code in _SPECIAL_CODES:
                self._special(code, data[pos + header : stop])
            pos = stop
            # Something else broke a run of equal frames: the rest may be one again.
            if self.run is not None and (taken := self.run.take(data, pos)) is not None:
                pieces.append(taken[0])
                pos = taken[1]
        self.pending = data[pos:]
        if stamps:
            pieces.append(b"".join(stamps))
        return pieces

    def _special(self, code: int, payload: bytes) -> None:
        layout = _LAYOUTS[code]
        if layout.event_class is LoginAccepted:
            self.ready = True  # its participant list is not needed: skip decoding it
            return
        event = decode_payload(layout, payload)
        if isinstance(event, ChatRejected):
            self.refused += 1
            self.refusal = f"{event.reason}: {event.message}"
        elif isinstance(event, LoginRejected):
            self.failure = f"login refused: {event.reason} {event.message}"
        elif isinstance(event, Ping):
            self.send_frames(self.conn.send(Pong(event.nonce)))
        elif isinstance(event, Error | Goodbye):
            self.failure = f"server ended the session: {event}"

    def _decoded_deliveries(self, data: bytes) -> list[Stamps]:
        conn = self.conn
        conn.receive_data(data)
        stamps: list[bytes] = []
        while (event := conn.next_event()) is not NEED_DATA:
            if type(event) is ChatMessage:
                stamps.append(event.text[KEPT_FROM:STAMP_BYTES].encode())
            elif isinstance(event, ChatRejected):
                self.refused += 1
                self.refusal = f"{event.reason}: {event.message}"
            elif isinstance(event, Ping):
                self.send_frames(conn.send(Pong(event.nonce)))
            elif isinstance(event, Error | Goodbye | ConnectionClosed):
                self.failure = f"server ended the session: {event}"
        return joined(stamps)


class IdleChatClient(ChatClient):
    """Logs in, then only answers pings: for holding thousands of idle sessions.

    Every login sends a Presence to everyone and a LoginAccepted listing
    everyone, so N logins put O(N^2) frames on the wire; decoding them all
    would make the generator the bottleneck. This client walks the frames
    from the first byte and decodes only the few it acts on.
    """

    def __init__(self, index: int, name: str) -> None:
        super().__init__(index, name)
        self.counting = True

    def handshake(self, data: bytes) -> None:
        self.deliveries(data)

    def start_counting(self) -> None:
        pass
