"""TLS clients for the tests of the server's own TLS (``chatserver.tls_transport``):
Python ``ssl`` sockets on ``support.RawClient``, a client on ``ssl.SSLObject``
that can half-close its socket, ``openssl s_client`` for what Python's
``ssl`` cannot ask for (key updates, renegotiation), and a log collector."""

from __future__ import annotations

import logging
import os
import select
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from chatproto import NEED_DATA, ClientConnection, Event, Login, LoginAccepted
from chatserver.log import LOGGER_NAME
from support import DEFAULT_TIMEOUT, RawClient

OPENSSL = shutil.which("openssl")


def insecure() -> ssl.SSLContext:
    """Encryption without checking the self-signed certificate (pinning is
    tested elsewhere; these tests are about the server's TLS machinery)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def tls_raw_client(address: tuple[str, int], name: str | None = None,
                   sock: socket.socket | None = None) -> RawClient:
    """A ``RawClient`` over a Python ``ssl`` socket, logged in as ``name`` if given."""
    client = RawClient.__new__(RawClient)
    if sock is None:
        RawClient.__init__(client, address)
    else:
        client.sock, client.conn, client.auto_pong = sock, ClientConnection(), True
        client.received, client._pending, client.eof = [], [], False
    client.sock = insecure().wrap_socket(client.sock, server_hostname="127.0.0.1")
    if name is not None:
        assert isinstance(client.login(name), LoginAccepted)
    return client


def client_hello() -> bytes:
    """The first flight of a real TLS client."""
    outgoing = ssl.MemoryBIO()
    tls = insecure().wrap_bio(ssl.MemoryBIO(), outgoing, server_hostname="127.0.0.1")
    with suppress(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


def closed_by_server(sock: socket.socket, timeout: float = DEFAULT_TIMEOUT) -> bool:
    """Read and drop until the server closes (EOF or reset): False on a timeout."""
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        pass
    except TimeoutError:
        return False
    return True


class BioClient:
    """A TLS client on ``ssl.SSLObject`` over a plain blocking socket, so that
    it can shut down its TCP write side and still decrypt what comes back
    (``SSLSocket.shutdown`` drops the TLS layer)."""

    def __init__(self, address: tuple[str, int]) -> None:
        self.sock = socket.create_connection(address, timeout=DEFAULT_TIMEOUT)
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = insecure().wrap_bio(self.incoming, self.outgoing,
                                       server_hostname="127.0.0.1")
        self.conn = ClientConnection()
        self.events: list[Event] = []
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                assert self._pump(), "the server closed during the handshake"
        self._flush()

    def _flush(self) -> None:
        if data := self.outgoing.read():
            self.sock.sendall(data)

    def _pump(self) -> bool:
        self._flush()
        data = self.sock.recv(65536)
        if not data:
            self.incoming.write_eof()
            return False
        self.incoming.write(data)
        return True

    def send(self, event: Any) -> None:
        self.tls.write(self.conn.send(event))
        self._flush()

    def login(self, name: str) -> None:
        self.tls.write(self.conn.send(self.conn.hello("bio-client")) +
                       self.conn.send(Login(name, "pw")))
        self._flush()
        while not any(isinstance(event, LoginAccepted) for event in self.events):
            data = self._read()
            assert data is not None, "closed before LoginAccepted"

    def _read(self) -> bytes | None:
        """Plaintext (b"" after close_notify); None if the TCP stream ended without it."""
        while True:
            try:
                data = self.tls.read(65536)
            except ssl.SSLWantReadError:
                if not self._pump():
                    return None
                continue
            except ssl.SSLEOFError:
                return None
            if not data:
                return data  # close_notify
            self.conn.receive_data(data)
            while (event := self.conn.next_event()) is not NEED_DATA:
                assert isinstance(event, Event)
                self.events.append(event)
            return data

    def read_to_end(self) -> bool:
        """Read until the server is done: True if it sent close_notify."""
        while (data := self._read()) is not None:
            if not data:
                return True
        return False


class ServerLog:
    """The server's log lines (its ``chatserver`` logger), as formatted."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def matching(self, text: str) -> list[str]:
        return [line for line in list(self.lines) if text in line]

    def wait_for(self, text: str, count: int = 1, timeout: float = DEFAULT_TIMEOUT) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(self.matching(text)) < count:
            assert time.monotonic() < deadline, f"no {count} log lines with {text!r}: {self.lines}"
            time.sleep(0.02)
        return self.matching(text)


@contextmanager
def server_log() -> Iterator[ServerLog]:
    collected = ServerLog()

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            collected.lines.append(record.getMessage())

    handler = Collect(logging.INFO)
    logger = logging.getLogger(LOGGER_NAME)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield collected
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


class SClient:
    """``openssl s_client`` speaking our protocol through its stdin and stdout.

    A line ``K``, ``k`` or ``R`` on its stdin is a command (key update with or
    without a request for the server's, renegotiation), which it confirms on
    stderr; every other read of its stdin is sent as application data."""

    def __init__(self, address: tuple[str, int], *options: str) -> None:
        assert OPENSSL is not None
        self.proc = subprocess.Popen(
            [OPENSSL, "s_client", "-connect", f"{address[0]}:{address[1]}", "-quiet",
             "-no_ign_eof", *options],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        self.conn = ClientConnection()
        self.stderr = b""

    def send(self, event: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(self.conn.send(event))
        self.proc.stdin.flush()

    def command(self, letter: str, confirmation: str) -> None:
        """Send a command and wait until s_client says it did it (so that the
        next write is a read of its own)."""
        assert self.proc.stdin is not None
        before = self.stderr.count(confirmation.encode())
        self.proc.stdin.write(letter.encode() + b"\n")
        self.proc.stdin.flush()
        deadline = time.monotonic() + DEFAULT_TIMEOUT
        while self.stderr.count(confirmation.encode()) == before:
            assert time.monotonic() < deadline, f"s_client did not {confirmation}"
            self._read(0.1)

    def _read(self, timeout: float) -> bytes | None:
        """One read of its output (stderr kept aside); None once stdout ends."""
        assert self.proc.stdout is not None and self.proc.stderr is not None
        ready, _, _ = select.select([self.proc.stdout, self.proc.stderr], [], [], timeout)
        data = b""
        for stream in ready:
            chunk = os.read(stream.fileno(), 65536)
            if stream is self.proc.stderr:
                self.stderr += chunk
            elif not chunk:
                return None
            else:
                data += chunk
        return data

    def wait_for(self, kind: type[Event], timeout: float = DEFAULT_TIMEOUT) -> Event | None:
        """The next event of that class, or None if s_client's output ended first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while (event := self.conn.next_event()) is not NEED_DATA:
                if isinstance(event, kind):
                    return event
            data = self._read(0.1)
            if data is None:
                return None
            if data:
                self.conn.receive_data(data)
        raise TimeoutError(f"no {kind.__name__} from s_client; stderr: {self.stderr!r}")

    def close(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        with suppress(subprocess.TimeoutExpired):
            self.proc.wait(DEFAULT_TIMEOUT)
        if self.proc.poll() is None:
            self.proc.kill()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                with suppress(OSError):
                    stream.close()
        return self.proc.wait()
