"""The two wire dialects of the load generator: our protocol and minimal IRC.

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
import operator
import re
import socket
import ssl
import struct
import time
from collections.abc import Callable

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
#: The text starts with the send time, ``time.time_ns()`` in 20 digits.
STAMP_BYTES = 20
#: The receivers keep only its last 12 digits (the time modulo 1,000 s): with
#: the arrival time they give the exact latency of any delivery that took
#: less than 500 s (see ``latencies_ns``), at 12 bytes per delivery.
KEPT_DIGITS = 12
_MODULUS = 10**KEPT_DIGITS
_KEPT_FROM = STAMP_BYTES - KEPT_DIGITS
#: Where the kept digits start, counted back from the end of a text.
_KEPT_FROM_END = TEXT_BYTES - _KEPT_FROM
#: The kept send-time digits of the chat messages of one read: either rows
#: (``bytes``, ``KEPT_DIGITS`` per message) or columns (``KEPT_DIGITS`` byte
#: strings of equal length, the ``j``-th holding digit ``j`` of every
#: message: what strided slices of a read give).
Stamps = bytes | tuple[bytes, ...]
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
CHANNEL = b"#bench"
_PRIVMSG_MARKER = b" PRIVMSG " + CHANNEL + b" :"
_PRIVMSG_STAMP = re.compile(
    re.escape(_PRIVMSG_MARKER) + rb"\d{%d}(\d{%d}) " % (_KEPT_FROM, KEPT_DIGITS)
)
#: A whole relayed line: ":nick!user@host PRIVMSG #bench :<stamp> ...\r\n".
_PRIVMSG_LINE = re.compile(
    rb"(?m)^:[^ \r\n]+(" + re.escape(_PRIVMSG_MARKER) + rb")(\d{20}) [^\r\n]*\r\n"
)


#: A function of a read that returns a tuple of strided slices of it.
Slicer = Callable[[bytes], Stamps]
#: Per count of deliveries: the slicer of the marks, what it must return, the
#: slicer of the stamps.
_Slicers = tuple[Slicer, Stamps, Slicer]


def _strided(offsets: range | list[int], stop: int, stride: int) -> Slicer:
    """One call, all in C, that slices ``data[offset:stop:stride]`` for each offset."""
    return operator.itemgetter(*[slice(offset, stop, stride) for offset in offsets])


def joined(stamps: list[bytes]) -> list[Stamps]:
    """Kept digits sliced one stamp at a time, as the ``Stamps`` of one read."""
    return [b"".join(stamps)] if stamps else []


def stamp_count(piece: Stamps) -> int:
    return len(piece) // KEPT_DIGITS if type(piece) is bytes else len(piece[0])


class Run:
    """Recognises, in C, a read that starts with deliveries of one shape.

    A shape is a length ``size``, the bytes every delivery has at fixed
    places (``marks``: offset and value) and where its send time starts
    (``stamp_at``). ``take`` checks each mark of every delivery with one
    strided slice per mark and cuts the kept digits out the same way: a
    dozen slices per read however many deliveries it holds; it declines
    fewer than ``least`` deliveries, which the caller parses more cheaply
    its own way. The slicers for each possible count are made once and
    shared by every client of the shape (``Run.of``).
    """

    def __init__(
        self, size: int, marks: tuple[tuple[int, int], ...], stamp_at: int, least: int
    ) -> None:
        self.size = size
        self.marks = marks
        self.stamp_at = stamp_at + _KEPT_FROM
        self.least = least
        self.least_bytes = least * size
        self._slicers: dict[int, _Slicers] = {}  # by count, for runs from the start

    @staticmethod
    @functools.cache
    def of(size: int, marks: tuple[tuple[int, int], ...], stamp_at: int, least: int) -> Run:
        return Run(size, marks, stamp_at, least)

    def _make(self, pos: int, count: int) -> _Slicers:
        stop = pos + count * self.size
        offsets = [pos + offset for offset, _ in self.marks]
        expected = tuple(bytes([value]) * count for _, value in self.marks)
        first = pos + self.stamp_at
        # One delivery (a paced run's usual read): its digits as one row.
        if count == 1:
            stamps = operator.itemgetter(slice(first, first + KEPT_DIGITS))
        else:
            stamps = _strided(range(first, first + KEPT_DIGITS), stop, self.size)
        return _strided(offsets, stop, self.size), expected, stamps

    def take(self, data: bytes, pos: int = 0) -> tuple[Stamps, int] | None:
        """The stamps of the deliveries ``data[pos:]`` starts with and where
        they end, if every whole delivery up to its end has the shape (None if not).

        Delivery ``i`` starts at ``pos + i * size`` if each before it had the
        length ``size``; for frames, whose header gives the length, checking
        the header of every one proves that by induction.
        """
        count = (len(data) - pos) // self.size
        if count < self.least:
            return None
        slicers = None if pos else self._slicers.get(count)
        if slicers is None:
            slicers = self._make(pos, count)
            if not pos:  # runs after a ping start anywhere: too many to keep
                self._slicers[count] = slicers
        marks, expected, stamps = slicers
        if marks(data) != expected:
            return None
        return stamps(data), pos + count * self.size


@functools.cache
def _chat_run(size: int) -> tuple[Run, bytes]:
    """The run of ChatMessage frames of ``size`` bytes, and their header."""
    header = HEADER.pack(_CHAT_CODE, size - HEADER_SIZE)
    # Under 6 frames the walker is as quick (0.3 us a frame).
    return Run.of(size, tuple(enumerate(header)), size - TEXT_BYTES, 6), header


def latencies_ns(arrived: int, piece: Stamps) -> list[int]:
    """``arrived`` minus the send time of each message of ``piece``.

    Exact for any latency from -500 s to +500 s: the digits dropped from
    the send time are a multiple of 10**12 ns, which the modulo cancels.
    """
    half = _MODULUS // 2
    base = arrived + half
    if type(piece) is bytes:
        sent = [int(piece[i : i + KEPT_DIGITS]) for i in range(0, len(piece), KEPT_DIGITS)]
    else:
        sent = [int(bytes(digits)) for digits in zip(*piece, strict=True)]
    return [(base - value) % _MODULUS - half for value in sent]


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
                self.write(conn.send(Pong(event.nonce)))
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
        unpack, header, chat, back = _unpack_header, HEADER_SIZE, _CHAT_CODE, _KEPT_FROM_END
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

    def _decoded_deliveries(self, data: bytes) -> list[Stamps]:
        conn = self.conn
        conn.receive_data(data)
        stamps: list[bytes] = []
        while (event := conn.next_event()) is not NEED_DATA:
            if type(event) is ChatMessage:
                stamps.append(event.text[_KEPT_FROM:STAMP_BYTES].encode())
            elif isinstance(event, ChatRejected):
                self.refused += 1
                self.refusal = f"{event.reason}: {event.message}"
            elif isinstance(event, Ping):
                self.write(conn.send(Pong(event.nonce)))
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


class IrcClient(BenchClient):
    """Minimal IRC: NICK/USER, wait for 001, JOIN, wait for end of NAMES, PRIVMSG."""

    echoes_to_sender = False

    def __init__(self, index: int, name: str) -> None:
        super().__init__(index, name)
        self.rest = b""
        self.joined_sent = False
        self.prefix = b"PRIVMSG " + CHANNEL + b" :"
        # The relayed PRIVMSG lines the last one looked like.
        self.run: Run | None = None

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

    def deliveries(self, data: bytes) -> list[Stamps]:
        """Runs of relayed lines of one shape in C (see ``Run``), else every
        complete line by regular expression.

        For lines, ``Run`` checks in every line-long slot the ':' of the
        sender's prefix first (PING and ERROR, the lines the server sends on
        its own, start with a letter), the space before "PRIVMSG" and the
        colon before the text where the learnt line has them, and "\r\n"
        last. Only other relayed lines (of a user joining, leaving or writing
        to someone else), none of which a fan-out run produces, could line up
        with that; counting every newline would rule them out too but cost
        more than everything else here.
        """
        if self.rest:
            data = self.rest + data
        if self.run is not None and (taken := self.run.take(data)) is not None:
            stamps, whole = taken
            if data.find(b"\n", whole) < 0:
                self.rest = data[whole:]
                return [stamps]
            # What is left is shorter than a delivery but holds a whole line.
            return [stamps, *self._all_lines(data[whole:])]
        return self._all_lines(data)

    def _all_lines(self, data: bytes) -> list[Stamps]:
        """Every complete line, by regular expression: the general case (and
        how the line length is learnt)."""
        cut = data.rfind(b"\n") + 1
        complete, self.rest = data[:cut], data[cut:]
        if b"PING " in complete or b"ERROR " in complete:
            for line in complete.split(b"\r\n"):
                if line.startswith(b"PING "):
                    self.write(b"PONG " + line[5:] + b"\r\n")
                elif line.startswith(b"ERROR"):
                    self.failure = line.decode("utf-8", "replace")
        first = _PRIVMSG_LINE.search(complete)
        if first is not None:
            start = first.start()
            size = first.end() - start
            stamp_at = first.start(2) - start
            marks = ((0, 58), (stamp_at - 1, 58), (first.start(1) - start, 32))  # ':', ':', ' '
            self.run = Run.of(size, (*marks, (size - 2, 13), (size - 1, 10)), stamp_at, 1)
        return joined(_PRIVMSG_STAMP.findall(complete))


class IdleIrcClient(IrcClient):
    """Registered (001) but in no channel: IRC's idle logged-in user."""

    join = False
