"""The replay at login: steps a slow link can take, and uploads made during it.

Both found while hardening (issue 11): a replay queued 512 entries at once, so
512 long messages (8 MB) overflowed the output bound of a client on a modest
link, which was dropped as too slow at every login and never caught up; and an
upload finished while its uploader was still replaying reached it only through
the replay, whose entries carry upload id 0, so the upload never closed.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from chatproto import (
    ChatMessage,
    FileAccepted,
    FileAvailable,
    FileChunk,
    FileEnd,
    FileOffer,
    SendChat,
    encode_event,
)
from support import RawClient, ServerProcess, server_process

LONG = 16_000
BACKLOG = 600  # 600 messages of 16,000 characters: 9.6 MB to replay


def _fill_backlog(server: ServerProcess, reader: str) -> None:
    RawClient.login_as(server, reader).goodbye()
    writer = RawClient.login_as(server, "writer")
    for number in range(1, BACKLOG + 1):
        writer.send(SendChat(f"{number:04d}" + "x" * LONG, client_id=number))
    writer.wait_for(lambda e: getattr(e, "client_id", 0) == BACKLOG, timeout=60)
    writer.goodbye()


def _small_window_client(server: ServerProcess) -> RawClient:
    """A client whose receive buffer is that of a modest link (32 KiB)."""
    return RawClient(server.address, receive_buffer=32_768)


def test_a_long_replay_reaches_a_slowly_reading_client(tmp_path: Path) -> None:
    with server_process(tmp_path / "data", "--flood-rate", "0") as server:
        _fill_backlog(server, "reader")
        reader = _small_window_client(server)
        reader.login("reader", "secret")
        numbers = []
        while len(numbers) < BACKLOG:
            time.sleep(0.001)  # reads steadily, but slower than loopback could deliver
            numbers.append(int(reader.wait_for(ChatMessage, timeout=20).text[:4]))
        assert numbers == list(range(1, BACKLOG + 1))  # was: dropped after a dozen
        assert not any("too slow" in line for line in server.lines)


def test_an_upload_finished_during_its_uploaders_replay_closes(tmp_path: Path) -> None:
    with server_process(tmp_path / "data", "--flood-rate", "0") as server:
        _fill_backlog(server, "uploader")
        uploader = _small_window_client(server)
        uploader.login("uploader", "secret")
        # While the replay waits for this client to read, it uploads a file. Its
        # chunks follow the offer at once (the server accepts offers on arrival).
        data = b"made while catching up"
        uploader.send(FileOffer(42, "late.txt", len(data), hashlib.sha256(data).digest()))
        uploader.send_raw(encode_event(FileChunk(42, 0, data)) + encode_event(FileEnd(42)))
        server.wait_for_line(r"uploader uploaded 'late\.txt'")
        assert isinstance(uploader.wait_for(FileAccepted, timeout=30), FileAccepted)
        announced = uploader.wait_for(FileAvailable, timeout=30)
        assert (announced.name, announced.upload_id) == ("late.txt", 42)  # was: 0
        numbers = [int(e.text[:4]) for e in uploader.received if isinstance(e, ChatMessage)]
        assert numbers == sorted(numbers) and len(numbers) == BACKLOG  # all before it
