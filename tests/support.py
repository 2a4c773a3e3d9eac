"""Shared test support: a real server (in-process or as a subprocess) and a
small raw protocol client over a blocking socket.

    with running_server(tmp_path / "data", heartbeat_interval=0.2) as srv:
        alice = RawClient.login_as(srv, "alice", "pw")
        alice.send(SendChat("hi"))
        alice.wait_for(ChatMessage)
"""

from __future__ import annotations

import asyncio
import os
import queue
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

import attrs

from chatproto import (
    NEED_DATA,
    ClientConnection,
    ConnectionClosed,
    Event,
    Goodbye,
    Hello,
    Limits,
    Login,
    LoginAccepted,
    LoginRejected,
    Ping,
    Pong,
)
from chatserver import ChatServer, ServerConfig

DEFAULT_TIMEOUT = 10.0
T = TypeVar("T")
E = TypeVar("E", bound=Event)

# -- the server in this process ------------------------------------------------------


@attrs.define
class RunningServer:
    host: str
    port: int
    data_dir: Path
    server: ChatServer
    loop: asyncio.AbstractEventLoop

    @property
    def tls(self) -> bool:
        """Whether it serves TLS (``running_server`` serves plain TCP unless told)."""
        return self.server.config.tls

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def call(self, fn: Callable[[], T], timeout: float = DEFAULT_TIMEOUT) -> T:
        """Run ``fn`` on the server's loop thread (to read its state safely)."""

        async def run() -> T:
            return fn()

        return self.run(run(), timeout)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = DEFAULT_TIMEOUT) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def participants(self) -> dict[str, str]:
        """``{name: state}`` of the participants, as the server sees them now."""
        return self.call(
            lambda: {p.name: p.state.value for p in self.server.hub.participants.snapshot()}
        )

    def wait_until(
        self, condition: Callable[[], bool], timeout: float = DEFAULT_TIMEOUT, what: str = ""
    ) -> None:
        """Poll ``condition`` (run on the server's loop) until it is true."""
        wait_until(lambda: self.call(condition), timeout, what)


@contextmanager
def running_server(data_dir: Path, **overrides: Any) -> Iterator[RunningServer]:
    """A ``ChatServer`` on 127.0.0.1, port 0, plain TCP unless ``tls=True`` is
    passed, in a thread with its own loop."""
    settings: dict[str, Any] = {
        "host": "127.0.0.1", "port": 0, "data_dir": data_dir, "tls": False,
    }
    settings.update(overrides)
    server = ChatServer(ServerConfig(**settings))
    loop = asyncio.new_event_loop()
    started = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(server.start())
        except BaseException as exc:
            failure.append(exc)
            started.set()
            return
        started.set()
        loop.run_until_complete(server.serve_forever())

    thread = threading.Thread(target=run, name="chat-server", daemon=True)
    thread.start()
    if not started.wait(DEFAULT_TIMEOUT):
        raise TimeoutError("the server did not start")
    if failure:
        thread.join()
        loop.close()
        raise failure[0]
    try:
        yield RunningServer(settings["host"], server.port, data_dir, server, loop)
    finally:
        with suppress(RuntimeError):
            asyncio.run_coroutine_threadsafe(server.stop(), loop).result(DEFAULT_TIMEOUT)
        thread.join(DEFAULT_TIMEOUT)
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()


# -- the server as a subprocess -----------------------------------------------------------

_LISTENING = re.compile(r"listening on (\S+):(\d+)")
_WEB_URL = re.compile(r"web client at (https?://\S+/)")


class ServerProcess:
    """A running ``chat-server`` with its merged stdout/stderr lines."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.host = "127.0.0.1"
        self.port = 0
        #: Whether it serves TLS (``server_process`` passes --no-tls unless told).
        self.tls = False
        #: The browser client's URL (``server_process(web=True)``), e.g.
        #: ``http://127.0.0.1:PORT/``.
        self.web_url = ""
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for_line(self, pattern: str, timeout: float = DEFAULT_TIMEOUT) -> re.Match[str]:
        """The first log line (old or new) matching the regex ``pattern``."""
        regex = re.compile(pattern)
        for line in self.lines:
            if match := regex.search(line):
                return match
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = self._queue.get(timeout=max(remaining, 0.001))
            except queue.Empty:
                raise TimeoutError(
                    f"no log line matching {pattern!r}; log so far:\n" + "\n".join(self.lines)
                ) from None
            if line is None:
                self._queue.put(None)
                raise EOFError(
                    f"server exited before logging {pattern!r}:\n" + "\n".join(self.lines)
                )
            self.lines.append(line)
            if match := regex.search(line):
                return match

    def output(self) -> str:
        """Everything logged so far (call after the process exited for all of it)."""
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                break
            if line is None:
                self._queue.put(None)
                break
            self.lines.append(line)
        return "\n".join(self.lines)

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def wait(self, timeout: float = DEFAULT_TIMEOUT) -> int:
        code = self.proc.wait(timeout)
        self._reader.join(timeout)
        return code


def server_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "chatserver", *args]


@contextmanager
def server_process(
    data_dir: Path,
    *extra_args: str,
    env: dict[str, str] | None = None,
    tls: bool = False,
    web: bool = False,
) -> Iterator[ServerProcess]:
    """Run the real ``chat-server`` on 127.0.0.1 with a free port, plain TCP
    (``--no-tls``) unless ``tls=True``; the browser client's listener on a
    free port with ``web=True`` (``web_url``), none otherwise."""
    full_env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
    proc = subprocess.Popen(
        server_command(
            "--host", "127.0.0.1", "--port", "0", "--data-dir", str(data_dir),
            *(() if tls else ("--no-tls",)),
            *(("--web-port", "0") if web else ("--no-web",)), *extra_args,
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=full_env,
    )
    server = ServerProcess(proc)
    server.tls = tls and "--no-tls" not in extra_args
    try:
        match = server.wait_for_line(_LISTENING.pattern, timeout=30)
        server.port = int(match.group(2))
        if web:
            server.web_url = server.wait_for_line(_WEB_URL.pattern, timeout=30).group(1)
        yield server
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(DEFAULT_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


# -- waiting without sleeping blind ----------------------------------------------------------


def wait_until(
    condition: Callable[[], bool], timeout: float = DEFAULT_TIMEOUT, what: str = ""
) -> None:
    deadline = time.monotonic() + timeout
    delay = 0.001
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout}s: {what or condition}")
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


# -- a raw protocol client --------------------------------------------------------------------


class Closed(Exception):
    """The server closed the connection while we waited for an event."""

    def __init__(self, events: list[Event]) -> None:
        super().__init__(f"connection closed; last events: {events[-5:]}")
        self.events = events


class RawClient:
    """``chatproto.ClientConnection`` over a blocking socket, for tests.

    Every event received is in ``received``, in order; ``wait_for`` takes the
    first one that matches and leaves the others for later calls. Pings are
    answered automatically unless ``auto_pong`` is off.
    """

    def __init__(
        self, address: tuple[str, int], auto_pong: bool = True, limits: Limits | None = None,
        receive_buffer: int | None = None,
    ) -> None:
        """``receive_buffer``: SO_RCVBUF set before connecting (a slow link's window)."""
        if receive_buffer is None:
            self.sock = socket.create_connection(address, timeout=DEFAULT_TIMEOUT)
        else:
            self.sock = socket.socket(socket.AF_INET6 if ":" in address[0] else socket.AF_INET)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
            self.sock.settimeout(DEFAULT_TIMEOUT)
            self.sock.connect(address)
        self.conn = ClientConnection(limits)
        self.auto_pong = auto_pong
        self.received: list[Event] = []
        self._pending: list[Event] = []
        self.eof = False

    @classmethod
    def login_as(
        cls, server: Any, name: str, password: str = "secret", last_seen_seq: int = 0,
        **kwargs: Any,
    ) -> RawClient:
        """Connect to ``server`` (anything with ``.address``) and log in; must succeed."""
        client = cls(server.address, **kwargs)
        reply = client.login(name, password, last_seen_seq)
        assert isinstance(reply, LoginAccepted), reply
        return client

    # -- sending --------------------------------------------------------------------

    def send(self, event: Event) -> None:
        self.sock.sendall(self.conn.send(event))

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def hello(self) -> Hello:
        self.send(self.conn.hello("raw-test-client"))
        return self.wait_for(Hello)

    def login(
        self, name: str, password: str = "secret", last_seen_seq: int = 0, epoch: int = 0
    ) -> LoginAccepted | LoginRejected:
        if self.conn.version == 0:
            self.hello()
        self.send(Login(name, password, last_seen_seq, epoch))
        reply = self.wait_for((LoginAccepted, LoginRejected))
        assert isinstance(reply, LoginAccepted | LoginRejected)
        return reply

    # -- receiving -------------------------------------------------------------------

    def _read_more(self, timeout: float) -> None:
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data = self.sock.recv(262_144)
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
        self.conn.receive_data(data)
        while (event := self.conn.next_event()) is not NEED_DATA:
            assert isinstance(event, Event)
            if isinstance(event, Ping) and self.auto_pong:
                self.send(Pong(event.nonce))
            self._pending.append(event)
            self.received.append(event)
            if isinstance(event, ConnectionClosed):
                break

    def next_event(self, timeout: float = DEFAULT_TIMEOUT) -> Event:
        """The oldest event not yet taken by ``next_event`` or ``wait_for``."""
        return self.wait_for(lambda event: True, timeout)

    def wait_for(
        self,
        kind: type[E] | tuple[type[Event], ...] | Callable[[Event], bool],
        timeout: float = DEFAULT_TIMEOUT,
    ) -> E:
        """The oldest event not taken yet that matches ``kind`` (a class, classes
        or a predicate); events it passes over stay available for later calls.
        Raises ``Closed`` if the connection ends first, ``TimeoutError``."""
        if isinstance(kind, type | tuple):
            classes = kind

            def matches(event: Event) -> bool:
                return isinstance(event, classes)
        else:
            matches = kind
        deadline = time.monotonic() + timeout
        scanned = 0
        while True:
            for index in range(scanned, len(self._pending)):
                if matches(self._pending[index]):
                    return self._pending.pop(index)  # type: ignore[return-value]
            scanned = len(self._pending)
            if self.eof:
                raise Closed(self.received)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                recent = [type(e).__name__ for e in self.received[-5:]]
                raise TimeoutError(f"no matching event within {timeout}s; last events: {recent}")
            try:
                self._read_more(remaining)
            except TimeoutError:
                continue

    def wait_closed(self, timeout: float = DEFAULT_TIMEOUT) -> list[Event]:
        """Read until the server closes; returns every event received."""
        with suppress(Closed):
            self.wait_for(ConnectionClosed, timeout)
        return self.received

    # -- ending ------------------------------------------------------------------------

    def goodbye(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Leave normally: Goodbye, then read until the server closes.

        Closing a socket that still holds unread data makes the kernel send
        a reset, which may overtake the Goodbye: a real client drains first."""
        self.send(Goodbye("bye"))
        with suppress(OSError):
            self.sock.shutdown(socket.SHUT_WR)
            self.sock.settimeout(timeout)
            while self.sock.recv(262_144):
                pass
        self.sock.close()

    def close(self) -> None:
        """Close the socket without a Goodbye (like a killed program)."""
        self.sock.close()

    def reset(self) -> None:
        """Close with a TCP reset (like a network error)."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


def presence_of(user: str, state: str) -> Callable[[Event], bool]:
    """A ``wait_for`` predicate: the Presence event of ``user`` entering ``state``."""
    from chatproto import Presence

    return lambda e: isinstance(e, Presence) and e.user == user and e.state == state


def upload(
    client: RawClient,
    data: bytes,
    name: str = "file.bin",
    upload_id: int = 1,
    recipient: str | None = None,
    sha256: bytes | None = None,
) -> Event:
    """Offer, stream and end an upload; returns the uploader's FileAvailable
    (its own, echoing ``upload_id``) or the FileRejected."""
    import hashlib

    from chatproto import FileAccepted, FileAvailable, FileChunk, FileEnd, FileOffer, FileRejected

    digest = sha256 if sha256 is not None else hashlib.sha256(data).digest()
    client.send(FileOffer(upload_id, name, len(data), digest, recipient))
    reply = client.wait_for(
        lambda e: isinstance(e, FileAccepted | FileRejected) and e.upload_id == upload_id
    )
    if isinstance(reply, FileRejected):
        return reply
    step = client.conn.chunk_size
    for offset in range(0, len(data), step):
        client.send(FileChunk(upload_id, offset, data[offset : offset + step]))
    client.send(FileEnd(upload_id))
    me = client.conn.username
    return client.wait_for(
        lambda e: (isinstance(e, FileRejected) and e.upload_id == upload_id)
        or (isinstance(e, FileAvailable) and e.upload_id == upload_id and e.sender == me)
    )


def fetch(client: RawClient, file_id: int, offset: int = 0) -> bytes | Event:
    """Fetch a file's bytes from ``offset``; returns them, or the FetchRejected."""
    from chatproto import FetchFile, FetchRejected, FileChunk, FileEnd

    client.send(FetchFile(file_id, offset))
    data = bytearray()
    while True:
        event = client.wait_for(
            lambda e: isinstance(e, FileChunk | FileEnd | FetchRejected)
            and getattr(e, "transfer_id", getattr(e, "file_id", None)) == file_id
        )
        if isinstance(event, FetchRejected):
            return event
        if isinstance(event, FileEnd):
            return bytes(data)
        assert isinstance(event, FileChunk) and event.offset == offset + len(data)
        data += event.data


# -- several clients' frames in one server loop turn ------------------------------------------


@attrs.frozen
class TcpSocket:
    """One line of Linux ``/proc/net/tcp``: a socket's state and queues."""

    state: int  # 1 ESTABLISHED, 4 FIN_WAIT1, 7 CLOSE, 8 CLOSE_WAIT...
    tx_queue: int  # bytes the kernel holds, not yet acknowledged by the peer
    rx_queue: int  # bytes received, not yet read by the program

    ESTABLISHED = 1


def tcp_sockets(port: int) -> dict[int, TcpSocket]:
    """``{peer port: socket}`` of the connected sockets on 127.0.0.1:``port``
    (a server's side of its connections), from Linux ``/proc/net/tcp``."""
    sockets: dict[int, TcpSocket] = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state, tx_rx = fields[1], fields[2], fields[3], fields[4]
        peer = int(remote.split(":")[1], 16)
        if int(local.split(":")[1], 16) == port and peer != 0:
            tx, rx = (int(part, 16) for part in tx_rx.split(":"))
            sockets[peer] = TcpSocket(int(state, 16), tx, rx)
    return sockets


def send_in_one_turn(server: ServerProcess, sends: list[tuple[RawClient, Event]]) -> None:
    """Make the server read every ``(client, event)`` in one loop turn (so that
    the chats among them share one batch): the server process is stopped
    (SIGSTOP) while the frames are sent, continued (SIGCONT) once the kernel
    holds all of them in its sockets' receive queues (Linux ``/proc``)."""
    expected: dict[int, int] = {}
    os.kill(server.proc.pid, signal.SIGSTOP)
    try:
        for client, event in sends:
            data = client.conn.send(event)
            client.send_raw(data)
            port = client.sock.getsockname()[1]
            expected[port] = expected.get(port, 0) + len(data)
        wait_until(
            lambda: all(
                (sock := tcp_sockets(server.port).get(port)) is not None
                and sock.rx_queue >= size
                for port, size in expected.items()
            ),
            what="the frames to reach the stopped server's sockets",
        )
    finally:
        os.kill(server.proc.pid, signal.SIGCONT)
