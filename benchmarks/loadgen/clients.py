"""The two wire dialects of the load generator: our protocol and minimal IRC.

A client is a non-blocking socket plus just enough protocol to log in, send
a chat line and pull the send timestamps out of what it receives. Every
message's text is exactly ``TEXT_BYTES`` long and begins with the sender's
``time.time_ns()`` in 20 digits (the clock of the kernel's receive
timestamps); both protocols put the text last, so
the receiver reads the timestamp without parsing anything else.
"""

from __future__ import annotations

import socket
import time

from chatproto import (
    NEED_DATA,
    ChatMessage,
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

TEXT_BYTES = 100
#: ``Login.last_seen_seq`` that asks for no replay of older history.
NO_REPLAY = 2**63 - 1
PASSWORD = "bench-password"
CHANNEL = b"#bench"


def message_text(sender: int, number: int) -> str:
    """100 ASCII bytes: send time, sender, message number, padding."""
    head = f"{time.time_ns():020d} {sender:05d} {number:09d} "
    return head + "x" * (TEXT_BYTES - len(head))


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

    def greeting(self) -> bytes:
        """The first bytes to send once connected."""
        raise NotImplementedError

    def handshake(self, data: bytes) -> None:
        """Consume handshake bytes; set ``ready`` or ``failure``."""
        raise NotImplementedError

    def chat(self, text: str) -> bytes:
        raise NotImplementedError

    def deliveries(self, data: bytes) -> list[int]:
        """The send timestamps of the chat messages in ``data``."""
        raise NotImplementedError

    def write(self, data: bytes) -> None:
        """Send now what the socket takes; keep the rest for ``flush``."""
        assert self.sock is not None
        if self.outbox:
            self.outbox += data
            return
        try:
            sent = self.sock.send(data)
        except BlockingIOError:
            sent = 0
        if sent < len(data):
            self.outbox += data[sent:]

    def flush(self) -> None:
        assert self.sock is not None
        if self.outbox:
            try:
                sent = self.sock.send(self.outbox)
            except BlockingIOError:
                return
            del self.outbox[:sent]


class ChatClient(BenchClient):
    """Our protocol through the sans-IO ``ClientConnection`` (no session layer)."""

    echoes_to_sender = True

    def __init__(self, index: int, name: str) -> None:
        super().__init__(index, name)
        self.conn = ClientConnection()
        self.client_id = 0

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

    def deliveries(self, data: bytes) -> list[int]:
        conn = self.conn
        conn.receive_data(data)
        stamps = []
        while (event := conn.next_event()) is not NEED_DATA:
            if type(event) is ChatMessage:
                stamps.append(int(event.text[:20]))
            elif type(event) is Ping:
                self.write(conn.send(Pong(event.nonce)))  # type: ignore[attr-defined]
            elif type(event) in (Error, Goodbye, ConnectionClosed):
                self.failure = f"server ended the session: {event}"
        return stamps


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
                self.write(b"JOIN " + CHANNEL + b"\r\n")
            elif len(parts) > 1 and parts[1] == b"366":
                self.ready = True
            elif line.startswith(b"ERROR") or (len(parts) > 1 and parts[1] in (b"432", b"433")):
                self.failure = line.decode("utf-8", "replace")

    def chat(self, text: str) -> bytes:
        return self.prefix + text.encode() + b"\r\n"

    def deliveries(self, data: bytes) -> list[int]:
        stamps = []
        for line in self._lines(data):
            if b" PRIVMSG " in line:
                stamps.append(int(line[-TEXT_BYTES : 20 - TEXT_BYTES]))
            elif line.startswith(b"PING "):
                self.write(b"PONG " + line[5:] + b"\r\n")
            elif line.startswith(b"ERROR"):
                self.failure = line.decode("utf-8", "replace")
        return stamps
