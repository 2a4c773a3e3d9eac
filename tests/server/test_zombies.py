"""Deactivated connections are closed for good, whatever they still had to
send (issue 11, item 2).

A client that stops reading while output is queued for it (a chat backlog,
a fetch in progress) and then misses its heartbeat is deactivated; the
server must then abort its connection within one sweep, not wait forever
for the unsent bytes to drain: the socket is closed, its buffers and its
fetch are freed, and its connection slot is given back. Measured on the real
``chat-server`` process: its sockets in ``/proc/net/tcp``, its memory in
``/proc/PID/status``, its open files in ``/proc/PID/fd``.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from chatproto import (
    ChatMessage,
    ClientConnection,
    Event,
    FetchFile,
    FileAvailable,
    Goodbye,
    LoginAccepted,
    Ping,
    SendChat,
    encode_event,
)
from support import (
    RawClient,
    ServerProcess,
    TcpSocket,
    presence_of,
    server_process,
    tcp_sockets,
    upload,
    wait_until,
)

pytestmark = pytest.mark.skipif(
    not Path("/proc/net/tcp").exists(), reason="needs Linux /proc"
)

MIB = 1024 * 1024
CHAT_ZOMBIES = 4
FETCH_ZOMBIES = 2
ZOMBIES = CHAT_ZOMBIES + FETCH_ZOMBIES
#: Generous: a loaded two-core machine must never make this test flaky.
PATIENCE = 30.0


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def open_stored_files(server: ServerProcess, data_dir: Path) -> int:
    """How many of the server's file descriptors are stored files (fetches)."""
    files = str(data_dir / "files")
    count = 0
    for fd in Path(f"/proc/{server.proc.pid}/fd").iterdir():
        with suppress(OSError):
            count += os.readlink(fd).startswith(files)
    return count


def stuck_client(server: ServerProcess, name: str) -> RawClient:
    """A logged-in client whose socket has a tiny receive buffer; it reads
    nothing after its login."""
    client = RawClient.__new__(RawClient)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(10)
    sock.connect(server.address)
    client.sock, client.conn, client.auto_pong = sock, ClientConnection(), True
    client.received, client._pending, client.eof = [], [], False
    assert isinstance(client.login(name), LoginAccepted)
    return client


class KeptAlive:
    """Sends a Ping from every client added, every 0.1 s, without reading:
    the server sees them alive meanwhile. Their other frames go through
    ``send`` here too, so that each socket has one writer."""

    def __init__(self) -> None:
        self.clients: list[RawClient] = []
        self._frames: list[tuple[RawClient, bytes]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def add(self, client: RawClient) -> None:
        with self._lock:
            self.clients.append(client)

    def send(self, client: RawClient, event: Event) -> None:
        with self._lock:
            self._frames.append((client, encode_event(event)))

    def _run(self) -> None:
        nonce = 0
        while not self._stop.wait(0.1):
            nonce += 1
            with self._lock:
                frames, self._frames = self._frames, []
                frames += [(client, encode_event(Ping(nonce))) for client in self.clients]
            for client, frame in frames:
                client.sock.sendall(frame)

    @contextmanager
    def running(self) -> Iterator[None]:
        self._thread.start()
        try:
            yield
        finally:
            self._stop.set()
            self._thread.join()


def server_side(server: ServerProcess, client: RawClient) -> TcpSocket | None:
    return tcp_sockets(server.port).get(client.sock.getsockname()[1])


def sees_the_end(client: RawClient) -> bool:
    """Reading now, the client gets to an EOF or a reset (its unread bytes first)."""
    client.sock.settimeout(PATIENCE)
    try:
        while client.sock.recv(1 << 20):
            pass
    except ConnectionResetError:
        pass
    except TimeoutError:
        return False
    return True


def test_deactivated_clients_that_do_not_read_are_aborted_and_forgotten(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    with server_process(
        data_dir, "--flood-rate", "0",
        "--heartbeat-interval", "0.2", "--heartbeat-timeout", "0.6",
        "--max-connections", str(ZOMBIES + 2),  # the zombies, the uploader, the sender
        # Far above the backlog: they are dropped for the heartbeat, not as too slow.
        "--output-buffer-limit", str(64 * MIB),
    ) as server:
        # (Every honest client here is busy, or gone: 0.6 s of silence deactivates.)
        with RawClient.login_as(server, "uploader") as uploader:
            blob = hashlib.sha256(b"blob").digest() * (8 * MIB // 32)
            announced = upload(uploader, blob, "blob.bin")
            assert isinstance(announced, FileAvailable), announced
            uploader.goodbye()
        zombies = KeptAlive()
        with zombies.running():
            for i in range(ZOMBIES):
                zombies.add(stuck_client(server, f"zombie{i}"))
            for zombie in zombies.clients[CHAT_ZOMBIES:]:
                zombies.send(zombie, FetchFile(announced.file_id, 0))
            wait_until(lambda: open_stored_files(server, data_dir) == FETCH_ZOMBIES,
                       PATIENCE, "the fetches to start")
            baseline = rss(server.proc.pid)
            sender = RawClient.login_as(server, "sender")
            text = "x" * 16_000
            # 12.8 MB for every chat zombie: the kernel holds 4 MB at most, the
            # rest waits in the server's buffers.
            count = 800
            for i in range(count):
                sender.send(SendChat(text, client_id=i))
                if i % 20 == 19 or i == count - 1:
                    while sender.wait_for(ChatMessage).client_id != i:
                        pass
                    sender.received.clear()
            held = rss(server.proc.pid) - baseline
            assert held > CHAT_ZOMBIES * 5 * MIB, f"the backlogs hold only {held / MIB:.1f} MiB"
            sender.goodbye()
        # Silent now: every zombie misses its heartbeat and is deactivated...
        for i in range(ZOMBIES):
            server.wait_for_line(rf"zombie{i} deactivated: no answer to heartbeat", PATIENCE)
        # ...and its connection aborted, with everything it held.
        wait_until(
            lambda: not any(
                (sock := server_side(server, zombie)) is not None
                and sock.state == TcpSocket.ESTABLISHED
                for zombie in zombies.clients
            ),
            PATIENCE, "the server to close every zombie's connection",
        )
        wait_until(lambda: open_stored_files(server, data_dir) == 0, PATIENCE,
                   "the zombies' fetches to close their files")
        wait_until(lambda: rss(server.proc.pid) - baseline < held / 2, PATIENCE,
                   "the zombies' output buffers to be freed")
        for zombie in zombies.clients:
            assert sees_the_end(zombie), "a zombie's socket stayed open"
            zombie.close()
        # Every slot is free again: all of them taken at once (a connection
        # holds its slot from its connect), each one logs in.
        fresh = [RawClient(server.address) for _ in range(ZOMBIES + 2)]
        for i, client in enumerate(fresh):
            assert isinstance(client.login(f"fresh{i}"), LoginAccepted)
        for client in fresh:
            client.close()


def test_a_client_that_stops_reading_after_goodbye_is_aborted(tmp_path: Path) -> None:
    """Not only deactivations: every close (here after a Goodbye, with a
    backlog the client never reads) ends within one sweep."""
    data_dir = tmp_path / "data"
    with server_process(
        data_dir, "--flood-rate", "0", "--max-connections", "2",
        "--output-buffer-limit", str(64 * MIB),
    ) as server:
        sender = RawClient.login_as(server, "sender")
        quitter = stuck_client(server, "quitter")
        for i in range(800):  # 12.8 MB: more than the kernel's 4 MB buffer
            sender.send(SendChat("y" * 16_000, client_id=i))
            if i % 20 == 19:
                while sender.wait_for(ChatMessage).client_id != i:
                    pass
                sender.received.clear()
        quitter.send(Goodbye("bye"))  # it never reads what is queued for it
        sender.wait_for(presence_of("quitter", "left"))
        wait_until(
            lambda: (sock := server_side(server, quitter)) is None
            or sock.state != TcpSocket.ESTABLISHED,
            PATIENCE, "the server to close the quitter's connection",
        )
        assert sees_the_end(quitter)
        quitter.close()
        RawClient.login_as(server, "next").close()  # the quitter's slot is free
