"""File relay through the server: one uploader, R receivers, SHA-256 checked.

Runs in the generator process. The uploader streams a generated file with
``ClientConnection`` (FileOffer, wait for FileAccepted, FileChunk..., FileEnd)
and waits for the FileAvailable; then every receiver fetches it at once. The
receivers read with ``recv_into`` into one buffer each and hash the chunk
payloads in place (memoryview, no copies): at a gigabyte per second the
generator must not spend its core copying bytes around.
"""

from __future__ import annotations

import hashlib
import random
import select
import ssl
import struct
import time
from collections.abc import Iterator, Sequence
from typing import Any, cast

from chatproto import (
    NEED_DATA,
    FetchFile,
    FileAccepted,
    FileAvailable,
    FileChunk,
    FileEnd,
    FileOffer,
    FileRejected,
    Ping,
    Pong,
)
from chatproto.limits import HEADER_SIZE
from chatproto.wire import HEADER, LAYOUT_BY_CLASS

from .clients import WOULD_BLOCK, ChatClient
from .engine import GeneratorError, connect_all, settle

BLOCK = 1 << 20
_CHUNK_CODE = LAYOUT_BY_CLASS[FileChunk].type_code
_END_CODE = LAYOUT_BY_CLASS[FileEnd].type_code
_PING_CODE = LAYOUT_BY_CLASS[Ping].type_code
_CHUNK_FIXED = struct.Struct("!QQ")
_unpack_header = HEADER.unpack_from
RECEIVE_BUFFER = 4 << 20


def generated_blocks(size: int, seed: int = 2024) -> Iterator[bytes]:
    """``size`` bytes of incompressible data, 1 MiB at a time, each block distinct."""
    base = bytearray(random.Random(seed).randbytes(BLOCK))
    for index, offset in enumerate(range(0, size, BLOCK)):
        struct.pack_into("!Q", base, 0, index)
        yield bytes(base[: min(BLOCK, size - offset)])


def expected_digest(size: int) -> bytes:
    digest = hashlib.sha256()
    for block in generated_blocks(size):
        digest.update(block)
    return digest.digest()


def _events(client: ChatClient, wanted: type, deadline: float) -> Any:
    """Read ``client`` (blocking) until an event of type ``wanted`` arrives."""
    sock, conn = client.sock, client.conn
    assert sock is not None
    while time.monotonic() < deadline:
        while (event := conn.next_event()) is not NEED_DATA:
            if isinstance(event, wanted):
                return event
            if isinstance(event, FileRejected):
                raise GeneratorError(f"upload refused: {event.reason} {event.message}")
            if isinstance(event, Ping):
                sock.sendall(conn.send(Pong(event.nonce)))
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        data = sock.recv(1 << 20)
        if not data:
            raise GeneratorError(f"{client.name}: the server closed the connection")
        conn.receive_data(data)
    raise GeneratorError(f"{client.name}: no {wanted.__name__} in time")


def upload(client: ChatClient, size: int, digest: bytes, upload_id: int) -> FileAvailable:
    sock, conn = client.sock, client.conn
    assert sock is not None
    sock.setblocking(True)
    sock.sendall(conn.send(FileOffer(upload_id, f"relay-{upload_id}.bin", size, digest)))
    _events(client, FileAccepted, time.monotonic() + 30)
    chunk = conn.chunk_size
    offset = 0
    for block in generated_blocks(size):
        view = memoryview(block)
        for start in range(0, len(block), chunk):
            piece = view[start : start + chunk]
            sock.sendall(conn.send(FileChunk(upload_id, offset, bytes(piece))))
            offset += len(piece)
    sock.sendall(conn.send(FileEnd(upload_id)))
    available: FileAvailable = _events(client, FileAvailable, time.monotonic() + 120)
    return available


class _Download:
    def __init__(self, client: ChatClient, file_id: int) -> None:
        self.client = client
        self.file_id = file_id
        self.buffer = bytearray(RECEIVE_BUFFER)
        self.view = memoryview(self.buffer)
        self.filled = 0
        self.offset = 0
        self.hash = hashlib.sha256()
        self.finished = 0.0

    def read(self) -> bool:
        """Take what the socket has; True once FileEnd arrived."""
        sock = self.client.sock
        assert sock is not None
        done = False
        while True:
            try:
                got = sock.recv_into(self.view[self.filled :])
            except WOULD_BLOCK:
                return done
            if not got:
                raise GeneratorError(f"{self.client.name}: the server closed the connection")
            self.filled += got
            done = self._frames() or done
            # A plain socket is read once per readiness event; TLS gives one
            # record per read and may hold decrypted bytes no event announces.
            if done or not isinstance(sock, ssl.SSLSocket):
                return done

    def _frames(self) -> bool:
        view, pos, end = self.view, 0, self.filled
        done = False
        while end - pos >= HEADER_SIZE:
            code, length = _unpack_header(view, pos)
            stop = pos + HEADER_SIZE + length
            if stop > end:
                if stop - pos > len(self.buffer):
                    raise GeneratorError(f"a frame of {length} bytes does not fit the buffer")
                break
            body = pos + HEADER_SIZE
            if code == _CHUNK_CODE:
                transfer_id, offset = _CHUNK_FIXED.unpack_from(view, body)
                if transfer_id != self.file_id or offset != self.offset:
                    raise GeneratorError(f"chunk of file {transfer_id} at {offset} out of order")
                self.hash.update(view[body + 16 : stop])
                self.offset += stop - body - 16
            elif code == _END_CODE:
                done = True
            elif code == _PING_CODE:
                nonce = struct.unpack_from("!Q", view, body)[0]
                self.client.write(self.client.conn.send(Pong(nonce)))
            elif code == LAYOUT_BY_CLASS[FileRejected].type_code:
                raise GeneratorError(f"{self.client.name}: fetch refused")
            pos = stop
        if pos:
            self.view[: end - pos] = self.view[pos:end]
            self.filled = end - pos
        return done


def download_all(
    clients: Sequence[ChatClient], file_id: int, timeout: float = 240.0
) -> tuple[float, list[_Download]]:
    """Fetch ``file_id`` on every client at once; (start time, downloads)."""
    downloads = {c.sock.fileno(): _Download(c, file_id) for c in clients if c.sock}
    poller = select.epoll()
    try:
        started = time.monotonic()
        for fd, download in downloads.items():
            client = download.client
            if client.conn.trailing_data:
                raise GeneratorError("unparsed bytes before the fetch")
            assert client.sock is not None
            client.sock.setblocking(False)
            client.write(client.conn.send(FetchFile(file_id, 0)))
            poller.register(fd, select.EPOLLIN)
        active = len(downloads)
        deadline = started + timeout
        while active:
            if time.monotonic() > deadline:
                raise GeneratorError(f"downloads unfinished after {timeout}s")
            for fd, _ in poller.poll(1.0):
                download = downloads[fd]
                if download.read():
                    download.finished = time.monotonic()
                    poller.unregister(fd)
                    active -= 1
                download.client.flush()
    finally:
        poller.close()
    return started, list(downloads.values())


def relay(
    address: tuple[str, int], receivers: int, size: int, upload_id: int, tls: bool = False
) -> dict[str, Any]:
    """Upload ``size`` bytes once, fetch on ``receivers`` clients; figures out."""
    names = [f"up{upload_id}"] + [f"down{upload_id}_{i}" for i in range(receivers)]
    connected, _ = connect_all(ChatClient, address, names, tls=tls)
    clients = cast(list[ChatClient], connected)
    try:
        settle(clients)
        uploader, downloaders = clients[0], clients[1:]
        digest = expected_digest(size)
        started = time.monotonic()
        available = upload(uploader, size, digest, upload_id)
        uploaded = time.monotonic()
        for receiver in downloaders:
            receiver.sock.setblocking(True)  # type: ignore[union-attr]
            _events(receiver, FileAvailable, time.monotonic() + 30)
        cpu_before = time.process_time()
        fetch_start, downloads = download_all(downloaders, available.file_id)
        download_cpu = time.process_time() - cpu_before
        ok = sum(d.hash.digest() == digest and d.offset == size for d in downloads)
        last = max(d.finished for d in downloads)
        return {
            "receivers": receivers,
            "size": size,
            "upload_s": uploaded - started,
            "download_s": [d.finished - fetch_start for d in downloads],
            "download_total_s": last - fetch_start,
            "download_generator_cpu_s": download_cpu,
            "end_to_end_s": last - started,
            "verified": ok,
        }
    finally:
        for client in clients:
            if client.sock is not None:
                client.sock.close()
