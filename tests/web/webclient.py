"""The web listener seen from plain Python: HTTP requests and a chatproto
client over a real WebSocket (wsproto over a blocking socket).

    cookie = session_cookie(url)
    with WebChat.login_as(url, cookie, "alice", "pw") as alice:
        alice.send(SendChat("hi"))
        alice.wait_for(ChatMessage)

``WebChat`` checks on every message it receives that it holds exactly one
whole chatproto frame (the contract: one frame per WebSocket message).
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from collections.abc import Callable
from contextlib import suppress
from http.cookies import SimpleCookie
from typing import Any, TypeVar
from urllib.parse import urlsplit

from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Message,
    Ping,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)

from chatproto import (
    NEED_DATA,
    ClientConnection,
    Event,
    Goodbye,
    Hello,
    Login,
    LoginAccepted,
    LoginRejected,
)
from chatproto import Ping as ChatPing
from chatproto import Pong as ChatPong

TIMEOUT = 20.0
COOKIE = "lanchat_session"
E = TypeVar("E", bound=Event)


def _tls_context() -> ssl.SSLContext:
    # The server's certificate is self-signed: these tests check the web
    # listener, not certificate trust (chat-cli's pinning has its own tests).
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# -- HTTP -----------------------------------------------------------------------------


class Response:
    """Status, headers (all values of each, lower-case names) and body."""

    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = status
        self.header_list = headers
        self.body = body

    def header(self, name: str) -> str | None:
        values = self.headers(name)
        return values[0] if values else None

    def headers(self, name: str) -> list[str]:
        return [v for k, v in self.header_list if k.lower() == name.lower()]

    def __repr__(self) -> str:
        return f"Response({self.status}, {self.header_list}, {self.body[:200]!r})"


def connection(url: str, timeout: float = TIMEOUT) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port
    if parts.scheme == "https":
        return http.client.HTTPSConnection(host, port, timeout=timeout, context=_tls_context())
    return http.client.HTTPConnection(host, port, timeout=timeout)


def request(
    url: str, method: str, path: str, *, cookie: str | None = None,
    headers: dict[str, str] | None = None, body: bytes | None = None,
) -> Response:
    """One request on its own connection; ``url`` is the web client's base URL.

    Head and body leave in one write: a server that answers from the head
    (413, 403...) and closes must not turn the body's write into a broken
    pipe here (http.client writes them apart)."""
    parts = urlsplit(url)
    all_headers = {"Host": parts.netloc, "Connection": "close", **(headers or {})}
    if cookie is not None:
        all_headers["Cookie"] = f"{COOKIE}={cookie}"
    if body is not None:
        all_headers["Content-Length"] = str(len(body))
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in all_headers.items()) + "\r\n"
    sock = _connect(url)
    try:
        sock.sendall(head.encode("utf-8") + (body or b""))
        reply = http.client.HTTPResponse(sock, method=method)
        reply.begin()
        return Response(reply.status, reply.getheaders(), reply.read())
    finally:
        sock.close()


def _connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    sock = socket.create_connection((host, parts.port or 80), timeout=TIMEOUT)
    if parts.scheme == "https":
        return _tls_context().wrap_socket(sock, server_hostname=host)
    return sock


def cookie_of(response: Response) -> str | None:
    """The value of the session cookie that ``response`` sets, if any."""
    for header in response.headers("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        if COOKIE in jar:
            return jar[COOKIE].value
    return None


def session_cookie(url: str) -> str:
    """A new session: the cookie that ``GET /`` hands out."""
    response = request(url, "GET", "/")
    assert response.status == 200, response
    cookie = cookie_of(response)
    assert cookie, f"GET / set no {COOKIE} cookie: {response.header_list}"
    return cookie


# -- WebSocket --------------------------------------------------------------------------


class Refused(Exception):
    """The WebSocket handshake was answered with an HTTP status, not 101."""

    def __init__(self, status: int) -> None:
        super().__init__(f"WebSocket refused with HTTP {status}")
        self.status = status


class WebSocket:
    """A client WebSocket to ``/ws``; ``Refused`` if the handshake fails."""

    def __init__(self, url: str, cookie: str | None, origin: str | None = "",
                 path: str = "/ws") -> None:
        """``origin=""`` sends the page's own origin, ``None`` none at all."""
        parts = urlsplit(url)
        self.sock = _connect(url)
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.messages: list[bytes | str] = []
        self.close_code: int | None = None
        self.eof = False
        self._parts: list[Any] = []
        headers: list[tuple[bytes, bytes]] = []
        if cookie is not None:
            headers.append((b"Cookie", f"{COOKIE}={cookie}".encode()))
        if origin is not None:
            headers.append((b"Origin", (origin or origin_of(url)).encode()))
        self.sock.sendall(self.ws.send(
            Request(host=parts.netloc, target=path, extra_headers=headers)
        ))
        self._accepted: bool | None = None
        self._status = 0
        deadline = time.monotonic() + TIMEOUT
        while self._accepted is None:
            if self.eof:
                self.sock.close()
                raise Refused(self._status or 0)
            self._read(deadline - time.monotonic())
        if not self._accepted:
            self.sock.close()
            raise Refused(self._status)

    def _read(self, timeout: float) -> None:
        if timeout <= 0:
            raise TimeoutError("nothing from the WebSocket in time")
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(262_144)
        except (ConnectionResetError, ssl.SSLError):
            data = b""
        if not data:
            self.eof = True
            self.ws.receive_data(None)
        else:
            self.ws.receive_data(data)
        for event in self.ws.events():
            self._handle(event)

    def _handle(self, event: Any) -> None:
        if isinstance(event, AcceptConnection):
            self._accepted = True
        elif isinstance(event, RejectConnection):
            self._status = event.status_code
            if not event.has_body:
                self._accepted = False
        elif isinstance(event, RejectData):
            if event.body_finished:
                self._accepted = False
        elif isinstance(event, Message):
            self._parts.append(event.data)
            if event.message_finished:
                whole = (b"" if isinstance(event, BytesMessage) else "").join(self._parts)
                self._parts = []
                self.messages.append(whole)
        elif isinstance(event, Ping):
            self._send(event.response())
        elif isinstance(event, CloseConnection):
            self.close_code = event.code
            with suppress(Exception):
                self._send(event.response())

    def _send(self, event: Any) -> None:
        with suppress(OSError):
            self.sock.sendall(self.ws.send(event))

    def send_bytes(self, data: bytes, finished: bool = True) -> None:
        """One binary message (or, with ``finished=False``, its first fragment)."""
        self.sock.sendall(self.ws.send(BytesMessage(data=data, message_finished=finished)))

    def send_text(self, text: str) -> None:
        self.sock.sendall(self.ws.send(TextMessage(data=text)))

    def next_message(self, timeout: float = TIMEOUT) -> bytes | str | None:
        """The next whole message; ``None`` once the server closed."""
        deadline = time.monotonic() + timeout
        while not self.messages:
            if self.eof or self.close_code is not None:
                return None
            self._read(deadline - time.monotonic())
        return self.messages.pop(0)

    def wait_closed(self, timeout: float = TIMEOUT) -> int | None:
        """Read (dropping messages) until the server closes; its close code."""
        deadline = time.monotonic() + timeout
        while not self.eof and self.close_code is None:
            self._read(deadline - time.monotonic())
            self.messages.clear()
        return self.close_code

    def close_without_frame(self) -> None:
        """Drop the TCP connection, no close frame (like a killed browser)."""
        self.sock.close()

    def close(self) -> None:
        if self.close_code is None and not self.eof:
            self._send(CloseConnection(code=1000))
            with suppress(OSError, TimeoutError):
                self.wait_closed(5)
        self.sock.close()


class WebChat:
    """``chatproto.ClientConnection`` over a ``WebSocket``, like
    ``support.RawClient`` over TCP (pings answered, ``wait_for`` leaves the
    events it passes over for later calls)."""

    def __init__(self, url: str, cookie: str | None, origin: str | None = "",
                 version: int | None = None) -> None:
        self.socket = WebSocket(url, cookie, origin)
        self.conn = ClientConnection()
        #: The version offered in Hello (None: the library's, PROTOCOL_VERSION).
        self.version = version
        self.received: list[Event] = []
        self._pending: list[Event] = []

    @classmethod
    def login_as(cls, url: str, cookie: str, name: str, password: str = "pw",
                 version: int | None = None) -> WebChat:
        client = cls(url, cookie, version=version)
        reply = client.login(name, password)
        assert isinstance(reply, LoginAccepted), reply
        return client

    def send(self, event: Event) -> None:
        self.socket.send_bytes(self.conn.send(event))

    def login(self, name: str, password: str = "pw") -> LoginAccepted | LoginRejected:
        hello = self.conn.hello("web-test-client")
        if self.version is not None:
            hello = Hello(self.version, hello.max_frame_size, hello.software)
        self.send(hello)
        self.wait_for(Hello)
        self.send(Login(name, password, 0, 0))
        reply = self.wait_for((LoginAccepted, LoginRejected))
        assert isinstance(reply, LoginAccepted | LoginRejected)
        return reply

    def _read_one(self, timeout: float) -> None:
        message = self.socket.next_message(timeout)
        if message is None:
            raise ConnectionError(
                f"WebSocket closed (code {self.socket.close_code}); "
                f"last events: {self.received[-5:]}"
            )
        assert isinstance(message, bytes), f"a text message from the server: {message!r}"
        self.conn.receive_data(message)
        event = self.conn.next_event()
        assert isinstance(event, Event), f"a message without a whole frame: {message[:40]!r}"
        assert self.conn.next_event() is NEED_DATA and self.conn.trailing_data == 0, (
            f"a message with more than one frame: {message[:40]!r}"
        )
        if isinstance(event, ChatPing):
            self.send(ChatPong(event.nonce))
        self._pending.append(event)
        self.received.append(event)

    def wait_for(
        self, kind: type[E] | tuple[type[Event], ...] | Callable[[Event], bool],
        timeout: float = TIMEOUT,
    ) -> E:
        if isinstance(kind, type | tuple):
            classes = kind

            def matches(event: Event) -> bool:
                return isinstance(event, classes)
        else:
            matches = kind
        deadline = time.monotonic() + timeout
        while True:
            for index, event in enumerate(self._pending):
                if matches(event):
                    return self._pending.pop(index)  # type: ignore[return-value]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                names = [type(e).__name__ for e in self.received[-5:]]
                raise TimeoutError(f"no matching event within {timeout}s; last: {names}")
            self._read_one(remaining)

    def goodbye(self) -> None:
        self.send(Goodbye("bye"))
        with suppress(OSError, TimeoutError):
            self.socket.wait_closed(5)
        self.socket.sock.close()

    def close(self) -> None:
        self.socket.close()

    def __enter__(self) -> WebChat:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
