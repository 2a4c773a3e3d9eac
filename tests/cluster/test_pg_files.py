"""Files' bytes in PostgreSQL (``cluster.pg_files``): copied in off the
loop, read back by chunks from any offset, by any node's reader, orphans
removed only when old; and the upload path that uses it."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import conninfo

from chatproto import FileOffer
from chatserver.cluster.pg_files import CHUNK, ORPHAN_AGE_MS, PgFileBytes
from chatserver.cluster.pg_store import PgStore
from chatserver.files.fetches import stream_file
from chatserver.files.uploads import ByteReader, FileStorage, Uploads
from chatserver.ports import StoredFile

from .pg_support import new_database


@pytest.fixture
def dsn() -> Iterator[str]:
    with new_database() as dsn:
        PgStore(dsn).close()  # the schema
        yield dsn


@pytest.fixture
def chunks(dsn: str) -> Iterator[PgFileBytes]:
    files = PgFileBytes(dsn)
    try:
        yield files
    finally:
        files.close()


async def _read_all(reader: ByteReader, start: int, end: int, piece: int) -> bytes:
    out = bytearray()
    position = start
    while position < end:
        data = await reader.read(position, min(piece, end - position))
        if not data:
            break
        out += data
        position += len(data)
    reader.close()
    return bytes(out)


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, 3 * CHUNK + 17])
def test_bytes_round_trip(tmp_path: Path, dsn: str, chunks: PgFileBytes, size: int) -> None:
    data = secrets.token_bytes(size)
    partial = tmp_path / "upload.part"
    partial.write_bytes(data)
    chunks.keep(partial, "stored")
    assert chunks.size("stored") == size
    other_node = PgFileBytes(dsn)
    try:
        for piece in (1000, CHUNK, 64 * 1024 + 3):
            assert asyncio.run(_read_all(other_node.reader("stored"), 0, size, piece)) == data
        start = size // 2
        assert asyncio.run(_read_all(chunks.reader("stored"), start, size, 777)) == data[start:]
    finally:
        other_node.close()
    assert asyncio.run(chunks.reader("stored").read(size + CHUNK, 10)) == b""
    chunks.delete("stored")
    assert chunks.size("stored") is None
    assert asyncio.run(chunks.reader("stored").read(0, 10)) == b""


def test_only_old_orphans_are_cleaned(tmp_path: Path, dsn: str, chunks: PgFileBytes) -> None:
    partial = tmp_path / "p"
    for name in ("named", "fresh-orphan", "old-orphan"):
        partial.write_bytes(b"x" * 10)
        chunks.keep(partial, name)
    with psycopg.connect(dsn) as db:
        db.execute("INSERT INTO files (id, name, size, sha256, stored_name, sender)"
                   " VALUES (1, 'a', 10, %s, 'named', 'alice')", (b"\0" * 32,))
        db.execute("UPDATE file_chunks SET written_ms = written_ms - %s"
                   " WHERE stored_name IN ('named', 'old-orphan')", (ORPHAN_AGE_MS + 1,))
    chunks.clean(set())
    assert chunks.size("named") == 10 and chunks.size("fresh-orphan") == 10
    assert chunks.size("old-orphan") is None


def test_a_failed_read_is_an_oserror(dsn: str) -> None:
    files = PgFileBytes(conninfo.make_conninfo(dsn, port="1"))
    with pytest.raises(OSError, match="cannot read it from the database"):
        asyncio.run(files.reader("x").read(0, 10))


class _Sender:
    """The connection side of ``stream_file``: records what it is sent."""

    closed = False
    chunk_size = 100_000
    write_paused = False

    def __init__(self) -> None:
        self.sent: list[object] = []

    async def writable(self) -> None:
        return None

    def send_now(self, event: object) -> None:
        self.sent.append(event)


def test_an_upload_is_kept_in_postgresql_and_fetched_back(
        tmp_path: Path, chunks: PgFileBytes) -> None:
    data = secrets.token_bytes(2 * CHUNK + 5)
    storage = FileStorage(tmp_path, 10**9, 0, chunks)
    uploads = Uploads(storage)
    offer = FileOffer(9, "report.pdf", len(data), hashlib.sha256(data).digest(), None)
    uploads.offer(offer, set())
    uploads.chunk(9, data[:1000])
    uploads.chunk(9, data[1000:])
    announcement, upload = uploads.verify(9, "alice")
    stored_name = asyncio.run(storage.keep_away(upload))
    assert not upload.path.exists() and storage.reserved == 0
    assert chunks.size(stored_name) == len(data)
    stored = StoredFile(1, "report.pdf", len(data), announcement.sha256, stored_name, "alice",
                        None, 1)
    sender = _Sender()
    asyncio.run(stream_file(sender, stored, chunks, 10))
    body = b"".join(getattr(e, "data", b"") for e in sender.sent)
    assert body == data[10:] and type(sender.sent[-1]).__name__ == "FileEnd"
