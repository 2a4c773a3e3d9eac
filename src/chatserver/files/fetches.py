"""Sending stored files to clients, from any offset, with backpressure.

Each fetch reads one chunk at a time and waits while the connection's
transport buffer is above its high-water mark, so relaying a large file to
many receivers keeps the server's memory bounded by the buffers, not the file.
"""

from __future__ import annotations

from typing import Protocol

from chatproto import Event, FetchRejected, FileChunk, FileEnd, RejectReason

from ..log import log
from ..ports import StoredFile
from .uploads import FileBytes


class ChunkSender(Protocol):
    """The connection a stored file is streamed to: what a fetch needs of it."""

    @property
    def closed(self) -> bool: ...

    @property
    def chunk_size(self) -> int: ...

    @property
    def write_paused(self) -> bool: ...

    async def writable(self) -> None: ...

    def send_now(self, event: Event) -> None: ...


_CHUNKS_PER_TURN = 8


async def stream_file(
    client: ChunkSender, stored: StoredFile, source: FileBytes, offset: int
) -> None:
    """Send ``stored`` from ``offset`` as FileChunk... FileEnd (or FetchRejected)."""
    if not 0 <= offset <= stored.size:  # a peer's u64: seek takes 2**63 - 1 at most
        client.send_now(FetchRejected(stored.id, RejectReason.BAD_OFFSET, "past the end"))
        return
    name = stored.stored_name
    try:
        handle = source.reader(name)
    except OSError as exc:
        log.error("stored file %s of file %d is unreadable: %s", name, stored.id, exc)
        client.send_now(FetchRejected(stored.id, RejectReason.NOT_FOUND, "the file is gone"))
        return
    try:
        position = offset
        while position < stored.size:
            await client.writable()
            # A few chunks per turn while the buffer has room; then let the
            # other connections have the loop.
            for _ in range(_CHUNKS_PER_TURN):
                if client.closed:
                    return
                if client.write_paused or position >= stored.size:
                    break
                try:
                    data = await handle.read(position, min(client.chunk_size,
                                                           stored.size - position))
                except OSError as exc:
                    log.error("stored file %s of file %d is unreadable: %s", name, stored.id, exc)
                    data = b""
                if client.closed:
                    return
                if not data:
                    log.error("stored file %s of file %d is truncated", name, stored.id)
                    client.send_now(
                        FetchRejected(stored.id, RejectReason.SERVER_ERROR, "the file is damaged")
                    )
                    return
                client.send_now(FileChunk(stored.id, position, data))
                position += len(data)
    finally:
        handle.close()
    if not client.closed:
        client.send_now(FileEnd(stored.id))
