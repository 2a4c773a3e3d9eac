"""The web listener's edges, over real sockets: what comes before a chat
connection exists (TLS, the request head, the handshake) and what a WebSocket
connection must not do (docs/protocol.md 1.1)."""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection as WebSocket
from websockets.sync.client import connect

from chatproto import (
    NEED_DATA,
    ClientConnection,
    Error,
    ErrorCode,
    Event,
    Goodbye,
    Login,
    LoginAccepted,
    LoginRejected,
    LoginRejectReason,
    encode_event,
)
from chatserver import ChatServer, ServerConfig
from support import (
    DEFAULT_TIMEOUT,
    RawClient,
    RunningServer,
    presence_of,
    running_server,
    server_process,
)


def _unverified() -> ssl.SSLContext:
    return ssl._create_unverified_context()  # the server's self-signed certificate


@contextmanager
def web_server(data_dir: Path, **overrides: object) -> Iterator[RunningServer]:
    with running_server(data_dir, web_port=0, scrypt_n=2**10, **overrides) as server:
        assert server.server.web_port
        yield server


def web_origin(server: RunningServer) -> str:
    scheme = "https" if server.tls else "http"
    return f"{scheme}://127.0.0.1:{server.server.web_port}"


def session_cookie(server: RunningServer) -> str:
    host = f"127.0.0.1:{server.server.web_port}"
    conn = (http.client.HTTPSConnection(host, context=_unverified(), timeout=DEFAULT_TIMEOUT)
            if server.tls else http.client.HTTPConnection(host, timeout=DEFAULT_TIMEOUT))
    conn.request("GET", "/")
    response = conn.getresponse()
    response.read()
    assert response.status == 200
    cookie = response.getheader("Set-Cookie")
    assert cookie is not None
    return cookie.split(";")[0]


class WebChat:
    """A chatproto client over a real WebSocket, frame by message."""

    def __init__(self, server: RunningServer, **headers: str) -> None:
        url = ("wss" if server.tls else "ws") + f"://127.0.0.1:{server.server.web_port}/ws"
        extra = {"ssl": _unverified()} if server.tls else {}
        self.ws: WebSocket = connect(
            url, origin=headers.pop("origin", web_origin(server)),  # type: ignore[arg-type]
            additional_headers={"Cookie": headers.pop("cookie", session_cookie(server))},
            open_timeout=DEFAULT_TIMEOUT, **extra,
        ).__enter__()  # closed by the test, or by the server
        self.conn = ClientConnection()
        self.ws.send(self.conn.send(self.conn.hello("test")))
        self.next_event()

    def next_event(self) -> Event:
        while True:
            event = self.conn.next_event()
            if event is not NEED_DATA:
                assert isinstance(event, Event)
                return event
            message = self.ws.recv(timeout=DEFAULT_TIMEOUT)
            assert isinstance(message, bytes)
            self.conn.receive_data(message)

    def login(self, name: str, password: str = "pw") -> Event:
        self.ws.send(self.conn.send(Login(name, password)))
        return self.next_event()

    def raw_messages_until_closed(self) -> list[bytes | str]:
        got: list[bytes | str] = []
        try:
            while True:
                got.append(self.ws.recv(timeout=DEFAULT_TIMEOUT))
        except ConnectionClosed:
            return got


def _plain_request(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=DEFAULT_TIMEOUT) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def test_a_plain_request_to_the_tls_port_is_redirected_to_https(data_dir: Path) -> None:
    with web_server(data_dir, tls=True) as server:
        port = server.server.web_port
        assert port is not None
        answer = _plain_request(port, f"GET /?x=1 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
                                .encode())
        assert answer.startswith(b"HTTP/1.1 308 ")
        assert f"\r\nLocation: https://127.0.0.1:{port}/?x=1\r\n".encode() in answer


def test_a_head_over_the_limit_is_refused(data_dir: Path) -> None:
    with web_server(data_dir) as server:
        port = server.server.web_port
        assert port is not None
        answer = _plain_request(port, b"GET / HTTP/1.1\r\nX-Long: " + b"a" * 20_000)
        assert answer.startswith(b"HTTP/1.1 431 ")


def test_a_connection_that_says_nothing_is_closed_after_the_login_timeout(data_dir: Path) -> None:
    with web_server(data_dir, login_timeout=0.5) as server:
        port = server.server.web_port
        assert port is not None
        with socket.create_connection(("127.0.0.1", port), timeout=DEFAULT_TIMEOUT) as sock:
            assert sock.recv(1) == b""  # closed by the server, long before the timeout here


def test_a_broken_tls_handshake_closes_only_that_connection(data_dir: Path) -> None:
    with web_server(data_dir, tls=True) as server:
        port = server.server.web_port
        assert port is not None
        with socket.create_connection(("127.0.0.1", port), timeout=DEFAULT_TIMEOUT) as sock:
            sock.sendall(b"\x16\x03\x01\x00\x10" + b"\x00" * 16)  # a record, not a ClientHello
            while sock.recv(4096):
                pass  # an alert, then the close
        chat = WebChat(server)
        assert isinstance(chat.login("frog"), LoginAccepted)


@pytest.mark.parametrize("tls", [False, True])
def test_the_websocket_needs_the_page_origin_and_its_cookie(data_dir: Path, tls: bool) -> None:
    with web_server(data_dir, tls=tls) as server:
        with pytest.raises(InvalidStatus) as foreign:
            WebChat(server, origin="http://evil.example")
        assert foreign.value.response.status_code == 403
        with pytest.raises(InvalidStatus) as cookieless:
            WebChat(server, cookie="other=1")
        assert cookieless.value.response.status_code == 403
        assert server.call(lambda: len(server.server.ctx.registry.clients)) == 0  # type: ignore[union-attr]
        assert isinstance(WebChat(server).login("frog"), LoginAccepted)


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("a text message", ErrorCode.MALFORMED),
        (b"\x05\x00\x00\x00\x00" * 2, ErrorCode.MALFORMED),  # two Pings in one message
        (b"\x05\x00\x00\x00\x08abc", ErrorCode.TRUNCATED),  # a Ping cut short
        (b"\x05\x00", ErrorCode.TRUNCATED),  # not even a header
    ],
    ids=["text", "two-frames", "half-a-frame", "half-a-header"],
)
def test_a_message_that_is_not_one_binary_frame_is_refused(
    data_dir: Path, message: bytes | str, code: str
) -> None:
    with web_server(data_dir) as server:
        chat = WebChat(server)
        assert isinstance(chat.login("frog"), LoginAccepted)
        chat.next_event()  # frog's own presence
        chat.ws.send(message)
        answers = chat.raw_messages_until_closed()
        chat.conn.receive_data(b"".join(a for a in answers if isinstance(a, bytes)))
        error = chat.next_event()
        assert isinstance(error, Error) and error.code == code
        server.wait_until(lambda: server.server.hub.participants.snapshot()[0].state.value
                          == "deactivated", what="frog deactivated")


def test_a_message_over_the_size_limit_closes_with_1009(data_dir: Path) -> None:
    with web_server(data_dir) as server:
        chat = WebChat(server)
        chat.ws.send(b"\x10" + (2**20 + 100).to_bytes(4, "big") + b"x" * (2**20 + 100))
        chat.raw_messages_until_closed()
        assert chat.ws.close_code == 1009


def test_close_without_goodbye_deactivates_and_goodbye_leaves(data_dir: Path) -> None:
    with web_server(data_dir) as server:
        watcher = RawClient.login_as(server, "toad")  # over TCP
        chat = WebChat(server)
        assert isinstance(chat.login("frog"), LoginAccepted)
        chat.ws.close()
        watcher.wait_for(presence_of("frog", "deactivated"))
        chat = WebChat(server)
        assert isinstance(chat.login("frog"), LoginAccepted)
        chat.ws.send(encode_event(Goodbye("bye")))
        chat.raw_messages_until_closed()
        watcher.wait_for(presence_of("frog", "left"))


def test_a_web_login_of_a_user_active_over_tcp_is_already_active(data_dir: Path) -> None:
    with web_server(data_dir) as server:
        tcp = RawClient.login_as(server, "frog")
        refused = WebChat(server).login("frog", "secret")
        assert isinstance(refused, LoginRejected)
        assert refused.reason == LoginRejectReason.ALREADY_ACTIVE
        tcp.goodbye()
        web = WebChat(server)
        assert isinstance(web.login("frog", "secret"), LoginAccepted)
        refused = RawClient(server.address).login("frog", "secret")  # and the other way round
        assert isinstance(refused, LoginRejected)
        assert refused.reason == LoginRejectReason.ALREADY_ACTIVE


def test_an_explicit_web_port_in_use_stops_the_start(data_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        refused = pytest.raises(Exception, match=f"cannot listen on 127.0.0.1:{port} for the")
        with refused, running_server(data_dir, web_port=port):
            pass
        # The command line's default port, not asked for: the server starts without it.
        with running_server(data_dir, web_port=port, web_port_required=False) as server:
            assert server.server.web_port is None
            RawClient.login_as(server, "frog")


def test_the_command_line_prints_where_to_open_the_page(data_dir: Path) -> None:
    with server_process(data_dir, web=True) as server:
        assert server.web_url.startswith("http://127.0.0.1:")
        assert not server.web_url.endswith(":8080/")
    with server_process(data_dir, tls=True, web=True) as server:
        assert server.web_url.startswith("https://127.0.0.1:")


def test_config_refuses_a_web_port_out_of_range(data_dir: Path) -> None:
    with pytest.raises(ValueError, match="web port"):
        ServerConfig(data_dir=data_dir, web_port=70000)
    assert ChatServer(ServerConfig(data_dir=data_dir)).web_port is None  # off unless asked


@pytest.mark.parametrize("tls", [False, True])
def test_one_connection_serves_request_after_request(data_dir: Path, tls: bool) -> None:
    with web_server(data_dir, tls=tls) as server:
        host = f"127.0.0.1:{server.server.web_port}"
        conn = (http.client.HTTPSConnection(host, context=_unverified(), timeout=DEFAULT_TIMEOUT)
                if tls else http.client.HTTPConnection(host, timeout=DEFAULT_TIMEOUT))
        for path in ("/", "/static/app.js", "/nowhere", "/static/style.css", "/"):
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            assert response.status == (404 if path == "/nowhere" else 200), path
            assert not response.will_close
        assert conn.sock is not None  # still the first connection
