"""The load generator's WebSocket clients: the browser client's transport.

Our protocol over a WebSocket (docs/protocol.md 1.1): the page's ``GET /``
gives a ``lanchat_session`` cookie (``fetch_cookies``, before any client
connects), the upgrade of ``GET /ws`` carries it and the page's ``Origin``,
and then every binary message is exactly one chatproto frame, both ways.
Client frames are masked (RFC 6455 5.3; a fresh mask per frame from a
seeded ``random``: the benchmark has no proxy caches to protect, and the
server unmasks whatever the key), server frames are not.

The receive path keeps the TCP clients' shortcut (see ``clients``): every
delivery of a fan-out run is a WebSocket frame of one length holding a
ChatMessage frame of one length, so a read of them is checked (the
WebSocket header and the chatproto header of every one: each header gives
its frame's length, so checking them all proves the slots line up) and cut
into send times with strided slices (``Run``); anything else goes through
the WebSocket frame walker, which answers pings and sees closes.
"""

from __future__ import annotations

import base64
import functools
import http.client
import os
import random
import struct
from collections.abc import Sequence
from http.cookies import SimpleCookie

import attrs
from websockets.utils import accept_key

from chatproto import ChatMessage, Login, encode_event
from chatproto.limits import HEADER_SIZE

from .clients import _CHAT_CODE, _SPECIAL_CODES, NO_REPLAY, PASSWORD, ChatClient, tls_context
from .stamps import KEPT_DIGITS, KEPT_FROM_END, TEXT_BYTES, Run, Stamps

try:  # the library's C version where it is built
    from websockets.speedups import apply_mask
except ImportError:
    from websockets.utils import apply_mask

#: The page's session cookie (the contract's name).
COOKIE = "lanchat_session"
_BINARY, _CLOSE, _PING, _PONG = 0x2, 0x8, 0x9, 0xA
_FIN = 0x80
_MEDIUM = struct.Struct("!BBH")
_LARGE = struct.Struct("!BBQ")
_masks = random.Random(os.urandom(16))
USER_AGENT = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/156.0.0.0 Safari/537.36")


class WebError(Exception):
    """The web listener did not answer as a browser client needs."""


@attrs.frozen
class WebTarget:
    """Where the WebSockets go and what they carry: the ``Host`` and
    ``Origin`` of the page and, for the chat server, one cookie per client."""

    host: str
    secure: bool
    cookies: Sequence[str] = ()

    @property
    def origin(self) -> str:
        return f"{'https' if self.secure else 'http'}://{self.host}"


def fetch_cookies(address: tuple[str, int], secure: bool, count: int) -> list[str]:
    """``count`` page loads (``GET /``), a fresh session cookie from each:
    one browser per client, as the figures mean, so one connection per load
    (``Connection: close``), as separate browsers would open."""
    host, port = address
    cookies: list[str] = []
    connection: http.client.HTTPConnection | None = None
    failures = 0
    while len(cookies) < count:
        if connection is None:
            connection = (
                http.client.HTTPSConnection(host, port, timeout=60, context=tls_context())
                if secure else http.client.HTTPConnection(host, port, timeout=60)
            )
        try:
            connection.request("GET", "/", headers={"Connection": "close"})
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            connection = None
            failures += 1
            if failures > 3:
                raise WebError(f"GET / on {host}:{port}: {exc}") from None
            continue
        if response.status != 200:
            raise WebError(f"GET / on {host}:{port} answered {response.status}")
        jar: SimpleCookie = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or ():
            jar.load(header)
        if COOKIE not in jar:
            raise WebError(f"GET / on {host}:{port} set no {COOKIE} cookie")
        cookies.append(jar[COOKIE].value)
        if response.will_close:
            connection.close()
            connection = None
    if connection is not None:
        connection.close()
    return cookies


def masked(payload: bytes) -> bytes:
    """One binary message from a client: header, mask key, masked payload."""
    size = len(payload)
    if size < 126:
        head = bytes((_FIN | _BINARY, 0x80 | size))
    elif size < 65536:
        head = _MEDIUM.pack(_FIN | _BINARY, 0x80 | 126, size)
    else:
        head = _LARGE.pack(_FIN | _BINARY, 0x80 | 127, size)
    mask = _masks.randbytes(4)
    return head + mask + apply_mask(payload, mask)


def _control(opcode: int, payload: bytes) -> bytes:
    mask = _masks.randbytes(4)
    return bytes((_FIN | opcode, 0x80 | len(payload))) + mask + apply_mask(payload, mask)


def _frame_at(data: bytes, pos: int) -> tuple[int, int] | None:
    """(where its payload starts, where it ends) of the WebSocket frame at
    ``pos``, if all of it is in ``data``."""
    end = len(data)
    if end - pos < 2:
        return None
    length = data[pos + 1] & 0x7F
    start = pos + 2
    if length == 126:
        start += 2
        if start > end:
            return None
        length = int.from_bytes(data[pos + 2 : start])
    elif length == 127:
        start += 8
        if start > end:
            return None
        length = int.from_bytes(data[pos + 2 : start])
    stop = start + length
    return (start, stop) if stop <= end else None


@functools.cache
def _delivery_run(size: int, header: bytes) -> Run:
    """The run of WebSocket messages of ``size`` bytes, each one ChatMessage
    frame, that all start with ``header`` (both headers, as the first had them)."""
    return Run.of(size, tuple(enumerate(header)), size - TEXT_BYTES, 6)


class WsChatClient(ChatClient):
    """Our protocol through a WebSocket, as the page speaks it."""

    def __init__(self, index: int, name: str, target: WebTarget) -> None:
        super().__init__(index, name)
        self.target = target
        self.key = base64.b64encode(os.urandom(16)).decode()
        self.upgraded = False
        self.head = b""  # the upgrade's answer so far

    # -- the upgrade --------------------------------------------------------------------

    def greeting(self) -> bytes:
        """The upgrade as Chromium 156 sends it (its headers, in its order):
        the server keeps the request while the WebSocket lives, so its size
        is part of what an idle connection costs."""
        target = self.target
        cookie = (
            f"Cookie: {COOKIE}={target.cookies[self.index]}\r\n" if target.cookies else ""
        )
        return (
            f"GET /ws HTTP/1.1\r\nHost: {target.host}\r\nConnection: Upgrade\r\n"
            f"Pragma: no-cache\r\nCache-Control: no-cache\r\nUser-Agent: {USER_AGENT}\r\n"
            f"Upgrade: websocket\r\nOrigin: {target.origin}\r\nSec-WebSocket-Version: 13\r\n"
            f"Accept-Encoding: gzip, deflate, br, zstd\r\n"
            f"Accept-Language: en-US,en;q=0.9\r\n{cookie}Sec-WebSocket-Key: {self.key}\r\n"
            f"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
        ).encode()

    def _upgrade(self, data: bytes) -> bytes | None:
        """Consume the upgrade's answer; the bytes after it once it is in."""
        head = self.head + data
        end = head.find(b"\r\n\r\n")
        if end < 0:
            self.head = head
            return None
        lines = head[:end].decode("latin-1").split("\r\n")
        if not lines[0].startswith("HTTP/1.1 101"):
            self.failure = f"WebSocket refused: {lines[0]} {head[end + 4 :][:200]!r}"
            return None
        fields = dict(line.partition(":")[::2] for line in lines[1:])
        accept = {k.strip().lower(): v.strip() for k, v in fields.items()}.get(
            "sec-websocket-accept")
        if accept != accept_key(self.key):
            self.failure = "the WebSocket upgrade's Sec-WebSocket-Accept is wrong"
            return None
        self.upgraded, self.head = True, b""
        self.opened()
        return head[end + 4 :]

    def opened(self) -> None:
        """The WebSocket is open: log in, one message per frame."""
        conn = self.conn
        self.write(masked(conn.send(conn.hello("chat-bench")))
                   + masked(conn.send(Login(self.name, PASSWORD, NO_REPLAY))))

    def handshake(self, data: bytes) -> None:
        if not self.upgraded:
            rest = self._upgrade(data)
            if rest is None:
                return
            data = rest
        if self.counting:
            self.deliveries(data)
        elif stream := self._unwrap(data):  # (b"" would tell the connection: end of stream)
            ChatClient.handshake(self, stream)

    # -- frames out -------------------------------------------------------------------

    def chat(self, text: str) -> bytes:
        return masked(ChatClient.chat(self, text))

    def send_frames(self, data: bytes) -> None:
        out, pos = [], 0
        while pos < len(data):
            stop = pos + HEADER_SIZE + int.from_bytes(data[pos + 1 : pos + HEADER_SIZE])
            out.append(masked(data[pos:stop]))
            pos = stop
        self.write(b"".join(out))

    # -- frames in --------------------------------------------------------------------

    def start_counting(self) -> None:
        if self.pending:
            raise RuntimeError("a partial WebSocket frame is still buffered; settle first")
        super().start_counting()

    def _control_frame(self, opcode: int, payload: bytes) -> None:
        if opcode == _CLOSE:
            code = int.from_bytes(payload[:2]) if len(payload) >= 2 else 1005
            self.failure = f"the server closed the WebSocket ({code} {payload[2:]!r})"
        elif opcode == _PING:
            self.write(_control(_PONG, payload))
        elif opcode != _PONG:
            self.failure = f"unexpected WebSocket frame, opcode {opcode:#x}"

    def _unwrap(self, data: bytes) -> bytes:
        """The chatproto bytes of the whole messages in ``data`` (the rest is
        kept): the general path, while logging in and settling."""
        data = self.pending + data
        frames, pos = [], 0
        while (found := _frame_at(data, pos)) is not None:
            start, stop = found
            opcode = data[pos] & 0x0F
            if opcode == _BINARY and data[pos] & _FIN:
                frames.append(data[start:stop])
            else:
                self._control_frame(opcode, data[start:stop])
            pos = stop
        self.pending = data[pos:]
        return b"".join(frames)

    def _decoded_deliveries(self, data: bytes) -> list[Stamps]:
        stream = self._unwrap(data)
        return ChatClient._decoded_deliveries(self, stream) if stream else []

    def deliveries(self, data: bytes) -> list[Stamps]:
        if not self.counting:
            return self._decoded_deliveries(data)
        if self.pending:
            data = self.pending + data
        run = self.run
        if run is None:
            return self._walk(data, 0)
        if len(data) < run.least_bytes:
            # Mostly one delivery (a paced run's read), perhaps with part of the next.
            size = run.size
            if (
                len(data) >= size
                and data[: len(self.frame_header)] == self.frame_header
                and _frame_at(data, size) is None
            ):
                self.pending = data[size:]
                return [data[run.stamp_at : run.stamp_at + KEPT_DIGITS]]
            return self._walk(data, 0)
        if (taken := run.take(data)) is not None:
            stamps, whole = taken
            # What is left is shorter than a delivery but may be a whole ping.
            if _frame_at(data, whole) is not None:
                return [stamps, *self._walk(data, whole)]
            self.pending = data[whole:]
            return [stamps]
        return self._walk(data, 0)

    def _walk(self, data: bytes, pos: int) -> list[Stamps]:
        """Message by message from ``pos``: the general case (and how the
        shape of a delivery is learnt)."""
        pieces: list[Stamps] = []
        stamps: list[bytes] = []
        back = KEPT_FROM_END
        size = 0 if self.run is None else self.run.size
        while (found := _frame_at(data, pos)) is not None:
            start, stop = found
            opcode = data[pos] & 0x0F
            if opcode != _BINARY or not data[pos] & _FIN:
                self._control_frame(opcode, data[start:stop])
            elif stop - start >= HEADER_SIZE and data[start] == _CHAT_CODE:
                kept = stop - back
                stamps.append(data[kept : kept + KEPT_DIGITS])
                if stop - pos != size:
                    size = stop - pos
                    self.frame_header = data[pos : start + HEADER_SIZE]
                    self.run = _delivery_run(size, self.frame_header)
                pos = stop
                continue
            elif stop - start >= HEADER_SIZE and data[start] in _SPECIAL_CODES:
                self._special(data[start], data[start + HEADER_SIZE : stop])
            pos = stop
            # Something else broke a run of equal messages: the rest may be one again.
            if self.run is not None and (taken := self.run.take(data, pos)) is not None:
                pieces.append(taken[0])
                pos = taken[1]
        self.pending = data[pos:]
        if stamps:
            pieces.append(b"".join(stamps))
        return pieces


class IdleWsChatClient(WsChatClient):
    """Logs in over a WebSocket, then only answers pings (see ``IdleChatClient``)."""

    def __init__(self, index: int, name: str, target: WebTarget) -> None:
        super().__init__(index, name, target)
        self.counting = True

    def start_counting(self) -> None:
        pass


class WsEchoClient(WsChatClient):
    """For the bare WebSocket servers of ``web_stack.py``: no login; each
    message sent is shaped as a ChatMessage frame (the server relays it
    unread), so that the receivers count it as they count chat deliveries."""

    def __init__(self, index: int, name: str, target: WebTarget) -> None:
        super().__init__(index, name, target)
        self.counting = True
        template = encode_event(ChatMessage(1, 0, 0, name, None, "x" * TEXT_BYTES))
        self.prefix = template[:-TEXT_BYTES]

    def opened(self) -> None:
        self.ready = True

    def chat(self, text: str) -> bytes:
        return masked(self.prefix + text.encode())

    def start_counting(self) -> None:
        pass

