"""Files' bytes in PostgreSQL (``files.uploads.FileBytes``), so that any
node serves any file.

A stored file is rows of ``file_chunks`` (256 KiB each, TOAST storage
without compression: uploads are mostly compressed already), written by
COPY in one transaction when the upload is verified, before its
announcement is committed: a file row never names bytes that are not
there. Copying in and reading out run on worker threads, each on a pooled
connection of its own, never on the event loop's (``PgStore``'s).

Chunks no file names are a crash between the copy and the announcement, or
an upload still being announced by another node: they are removed at
start only once they are an hour old.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg

from ..log import log
from ..ports import now_ms
from ..sqlite_store import StoreError
from .pg_schema import Conn
from .pg_store import _line, connect

CHUNK = 256 * 1024
#: Chunks younger than this are never taken for orphans (another node may be mid-upload).
ORPHAN_AGE_MS = 3_600_000
#: Idle connections kept for reads and copies.
_POOL = 4
#: A copy of a large file is one statement, longer than the usual timeout allows.
_COPY_TIMEOUT = "10min"


class PgFileBytes:
    """Stored files' bytes as rows of ``file_chunks`` in the cluster's database."""

    inline = False

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._lock = threading.Lock()
        self._idle: list[Conn] = []
        self._closed = False

    @contextlib.contextmanager
    def _connection(self) -> Iterator[Conn]:
        with self._lock:
            db = self._idle.pop() if self._idle else None
        if db is None or db.closed or db.broken:
            db = connect(self._dsn)
        try:
            yield db
        except BaseException:
            db.close()  # whatever state it is in, it is not reused
            raise
        with self._lock:
            if self._closed or len(self._idle) >= _POOL:
                db.close()
            else:
                self._idle.append(db)

    def keep(self, partial: Path, stored_name: str) -> None:
        """Copy ``partial`` in as ``stored_name``, all of it or nothing (blocking)."""
        written = now_ms()
        with self._connection() as db, db.transaction():
            db.execute(f"SET LOCAL statement_timeout = '{_COPY_TIMEOUT}'")
            with db.cursor() as cursor, cursor.copy(
                "COPY file_chunks (stored_name, idx, data, written_ms) FROM STDIN"
            ) as copy, partial.open("rb") as source:
                index = 0
                while data := source.read(CHUNK):
                    copy.write_row((stored_name, index, data, written))
                    index += 1
                if index == 0:  # an empty file is one empty chunk: it exists all the same
                    copy.write_row((stored_name, 0, b"", written))

    def chunk(self, stored_name: str, index: int) -> bytes | None:
        """Chunk ``index`` of a stored file, None past its end (blocking)."""
        with self._connection() as db, db.transaction():
            row = db.execute("SELECT data FROM file_chunks WHERE stored_name = %s AND idx = %s",
                             (stored_name, index)).fetchone()
        return None if row is None else bytes(row[0])

    def reader(self, stored_name: str) -> _ChunkReader:
        return _ChunkReader(self, stored_name)

    def size(self, stored_name: str) -> int | None:
        with self._connection() as db, db.transaction():
            row = db.execute("SELECT count(*), sum(length(data)) FROM file_chunks"
                             " WHERE stored_name = %s", (stored_name,)).fetchone()
        assert row is not None
        return None if not row[0] else int(row[1])

    def delete(self, stored_name: str) -> None:
        with self._connection() as db, db.transaction():
            db.execute("DELETE FROM file_chunks WHERE stored_name = %s", (stored_name,))

    def clean(self, known: set[str]) -> None:
        """Remove the chunks of files no file row names, older than an hour.
        ``known`` is not needed: the database itself says which are named."""
        del known
        try:
            with self._connection() as db, db.transaction():
                cursor = db.execute(
                    "DELETE FROM file_chunks c WHERE written_ms < %s AND NOT EXISTS"
                    " (SELECT 1 FROM files f WHERE f.stored_name = c.stored_name)",
                    (now_ms() - ORPHAN_AGE_MS,))
                removed = cursor.rowcount
        except (psycopg.Error, StoreError) as exc:  # the next start tries again
            log.warning("could not remove unreferenced file chunks: %s", _line(exc))
            return
        if removed:
            log.warning("removed %d unreferenced file chunks", removed)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for db in idle:
            db.close()


class _ChunkReader:
    """One stored file, read a chunk at a time on a worker thread; the chunk
    last read is kept, so pieces smaller than a chunk cost one query per chunk."""

    def __init__(self, source: PgFileBytes, stored_name: str) -> None:
        self._source = source
        self._name = stored_name
        self._index = -1
        self._data = b""

    async def read(self, position: int, count: int) -> bytes:
        index, skip = divmod(position, CHUNK)
        if index != self._index:
            try:
                data = await asyncio.to_thread(self._source.chunk, self._name, index)
            except (psycopg.Error, StoreError) as exc:
                raise OSError(f"cannot read it from the database: {_line(exc)}") from None
            if data is None:
                return b""
            self._index, self._data = index, data
        return self._data[skip : skip + count]

    def close(self) -> None:
        self._data = b""
