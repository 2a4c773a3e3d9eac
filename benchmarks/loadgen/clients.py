"""The two wire dialects of the load generator: our protocol and minimal IRC.

A client is a non-blocking socket plus just enough protocol to log in, send
a chat line and pull the send timestamps out of what it receives. Every
message's text is exactly ``TEXT_BYTES`` long and begins with the sender's
``time.time_ns()`` in 20 digits (the clock of the kernel's receive
timestamps); both protocols put the text last, so
the receiver reads the timestamp without parsing anything else.
"""

from __future__ import annotations

import re
import socket
import ssl
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
from chatproto.limits import HEADER_SIZE
from chatproto.wire import HEADER, LAYOUT_BY_CLASS

TEXT_BYTES = 100
#: A send timestamp as 20 ASCII digits, sliced from the received bytes.
Stamp = bytes | bytearray
_unpack_header = HEADER.unpack_from
_CHAT_CODE = LAYOUT_BY_CLASS[ChatMessage].type_code
_LAYOUTS = {layout.type_code: layout for layout in LAYOUT_BY_CLASS.values()}
_SPECIAL_CODES = frozenset(
    LAYOUT_BY_CLASS[cls].type_code
    for cls in (Ping, Error, Goodbye, LoginAccepted, LoginRejected, ChatRejected)
)
#: ``Login.last_seen_seq`` that asks for no replay of older history.
NO_REPLAY = 2**63 - 1
PASSWORD = "bench-password"
CHANNEL = b"#bench"
_PRIVMSG_STAMP = re.compile(rb" PRIVMSG " + CHANNEL + rb" :(\d{20}) ")


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


def connect_tls(
    address: tuple[str, int], source_host: str | None = None, timeout: float = 30.0
) -> socket.socket:
    """A connected, handshaken, tuned and then non-blocking TLS socket."""
    source = (source_host, 0) if source_host else None
    raw = socket.create_connection(address, timeout, source_address=source)
    tune_socket(raw)
    sock = tls_context().wrap_socket(raw)
    sock.setblocking(False)
    return sock


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

    def deliveries(self, data: bytes) -> list[Stamp]:
        """The send timestamps (20 ASCII digits each) of the chat messages in ``data``.

        Parsing them into numbers waits until the run is over: ``int()`` of
        each would cost as much as everything else the generator does.
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
        self.pending = bytearray()

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
                self.write(conn.send(Pong(event.nonce)))
            elif isinstance(event, Error | Goodbye | ConnectionClosed):
                self.failure = f"server closed during login: {event}"
            elif not isinstance(event, Hello):
                continue

    def chat(self, text: str) -> bytes:
        self.client_id += 1
        return self.conn.send(SendChat(text, None, self.client_id))

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
            self.pending = bytearray()

    def deliveries(self, data: bytes) -> list[Stamp]:
        if not self.counting:
            return self._decoded_deliveries(data)
        buf = self.pending
        buf += data
        end = len(buf)
        pos = 0
        stamps: list[Stamp] = []
        unpack = _unpack_header
        while end - pos >= HEADER_SIZE:
            code, length = unpack(buf, pos)
            stop = pos + HEADER_SIZE + length
            if stop > end:
                break
            if code == _CHAT_CODE:
                stamps.append(buf[stop - TEXT_BYTES : stop + 20 - TEXT_BYTES])
            elif code in _SPECIAL_CODES:
                self._special(code, bytes(buf[pos + HEADER_SIZE : stop]))
            pos = stop
        del buf[:pos]
        return stamps

    def _special(self, code: int, payload: bytes) -> None:
        layout = _LAYOUTS[code]
        if layout.event_class is LoginAccepted:
            self.ready = True  # its participant list is not needed: skip decoding it
            return
        event = layout.decode(payload)
        if isinstance(event, ChatRejected):
            self.refused += 1
            self.refusal = f"{event.reason}: {event.message}"
        elif isinstance(event, LoginRejected):
            self.failure = f"login refused: {event.reason} {event.message}"
        elif isinstance(event, Ping):
            self.write(self.conn.send(Pong(event.nonce)))
        elif isinstance(event, Error | Goodbye):
            self.failure = f"server ended the session: {event}"

    def _decoded_deliveries(self, data: bytes) -> list[Stamp]:
        conn = self.conn
        conn.receive_data(data)
        stamps: list[Stamp] = []
        while (event := conn.next_event()) is not NEED_DATA:
            if type(event) is ChatMessage:
                stamps.append(event.text[:20].encode())
            elif isinstance(event, ChatRejected):
                self.refused += 1
                self.refusal = f"{event.reason}: {event.message}"
            elif isinstance(event, Ping):
                self.write(conn.send(Pong(event.nonce)))
            elif isinstance(event, Error | Goodbye | ConnectionClosed):
                self.failure = f"server ended the session: {event}"
        return stamps


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


class IrcClient(BenchClient):
    """Minimal IRC: NICK/USER, wait for 001, JOIN, wait for end of NAMES, PRIVMSG."""

    echoes_to_sender = False

    def __init__(self, index: int, name: str) -> None:
        super().__init__(index, name)
        self.rest = b""
        self.joined_sent = False
        self.prefix = b"PRIVMSG " + CHANNEL + b" :"

    def greeting(self) -> bytes:
        nick = self.name.encode()
        return b"NICK " + nick + b"\r\nUSER " + nick + b" 0 * :bench\r\n"

    def _lines(self, data: bytes) -> list[bytes]:
        lines = (self.rest + data).split(b"\r\n")
        self.rest = lines.pop()
        return lines

    def handshake(self, data: bytes) -> None:
        for line in self._lines(data):
            parts = line.split(b" ", 3)
            if line.startswith(b"PING "):
                self.write(b"PONG " + line[5:] + b"\r\n")
            elif len(parts) > 1 and parts[1] == b"001" and not self.joined_sent:
                self.joined_sent = True
                if self.join:
                    self.write(b"JOIN " + CHANNEL + b"\r\n")
                else:
                    self.ready = True
            elif len(parts) > 1 and parts[1] == b"366":
                self.ready = True
            elif line.startswith(b"ERROR") or (len(parts) > 1 and parts[1] in (b"432", b"433")):
                self.failure = line.decode("utf-8", "replace")

    def chat(self, text: str) -> bytes:
        return self.prefix + text.encode() + b"\r\n"

    #: Join the channel as part of logging in (idle connections skip it).
    join = True

    def deliveries(self, data: bytes) -> list[Stamp]:
        buf = self.rest + data
        cut = buf.rfind(b"\n") + 1
        complete, self.rest = buf[:cut], buf[cut:]
        stamps: list[Stamp] = _PRIVMSG_STAMP.findall(complete)
        if b"PING " in complete or b"ERROR " in complete:
            for line in complete.split(b"\r\n"):
                if line.startswith(b"PING "):
                    self.write(b"PONG " + line[5:] + b"\r\n")
                elif line.startswith(b"ERROR"):
                    self.failure = line.decode("utf-8", "replace")
        return stamps


class IdleIrcClient(IrcClient):
    """Registered (001) but in no channel: IRC's idle logged-in user."""

    join = False
