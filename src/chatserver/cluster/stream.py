"""Applying the stream in id order, whatever order its entries arrive in.

Entries reach a node three ways: its own commits (at once), the other nodes'
publishes on Redis (usually a moment later, in any order across nodes) and,
for whatever did not come that way, PostgreSQL itself (``stream_since``).
Ids are dense and commit in order (``pg_store``), so "every id below the one
I hold is committed" and a gap can always be filled from the database: a
node applies entry n only after n - 1, never skips one and never applies one
twice (Synapse's "linear current stream id", without the need to wait for
slow writers: the counter row has already ordered them).

A gap is filled after ``GAP_WAIT`` (the missing publish usually arrives
first, and costs no query); a ``poll`` of the stream's head every
``POLL_PERIOD`` finds what nobody published (a node killed between its
commit and its publish, or Redis down).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any, Protocol

from chatproto import FileAvailable

from ..log import log
from ..ports import ChatRow
from .entries import StreamEntry

GAP_WAIT = 0.02
POLL_PERIOD = 0.25
#: Entries read from PostgreSQL per query while filling a gap.
FILL_LIMIT = 500
#: Entries held out of order at most; past it they are dropped and read from
#: the database instead (bounded memory whatever Redis delivers).
MAX_PENDING = 10_000

STREAM_CHANNEL = "stream"


class StreamSource(Protocol):
    def stream_since(self, after_id: int, limit: int = ...) -> list[StreamEntry]: ...

    def stream_head(self) -> int: ...


# -- the entries on Redis ------------------------------------------------------------


def encode_entry(entry: StreamEntry) -> bytes:
    files = [
        [f.seq, f.timestamp_ms, f.file_id, f.sender, f.recipient, f.name, f.size, f.sha256.hex(),
         f.upload_id]
        for f in entry.files
    ]
    body: dict[str, Any] = {"id": entry.id, "kind": entry.kind}
    if entry.kind == "entries":
        body["rows"] = entry.rows
        body["files"] = files
    else:
        body["data"] = entry.data
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def decode_entry(data: bytes) -> StreamEntry:
    body = json.loads(data)
    rows: tuple[ChatRow, ...] = tuple(
        (int(seq), int(ts), str(sender), None if recipient is None else str(recipient),
         int(client_id), str(text))
        for seq, ts, sender, recipient, client_id, text in body.get("rows", ())
    )
    files = tuple(
        FileAvailable(int(seq), int(ts), int(file_id), str(sender),
                      None if recipient is None else str(recipient), str(name), int(size),
                      bytes.fromhex(sha), int(upload_id))
        for seq, ts, file_id, sender, recipient, name, size, sha, upload_id
        in body.get("files", ())
    )
    return StreamEntry(int(body["id"]), body["kind"], rows, files, dict(body.get("data", {})))


# -- in order -------------------------------------------------------------------------


class StreamApplier:
    """Applies entries to this node strictly in id order, exactly once."""

    def __init__(
        self, source: StreamSource, apply: Callable[[StreamEntry], None], applied: int,
    ) -> None:
        self._source = source
        self._apply = apply
        #: The id of the last entry applied: every one up to it is, none after.
        self.applied = applied
        self._pending: dict[int, StreamEntry] = {}
        self._fill: asyncio.TimerHandle | None = None
        self._poller: asyncio.Task[None] | None = None
        self.filled_from_database = 0

    def start(self) -> None:
        self._poller = asyncio.create_task(self._poll(), name="stream-poll")

    def offer(self, entry: StreamEntry) -> None:
        if entry.id <= self.applied or entry.id in self._pending:
            return  # applied already, or held: each entry counts once
        if len(self._pending) >= MAX_PENDING:
            self._pending.clear()  # the database has them all, in order
        self._pending[entry.id] = entry
        self._drain()
        if self._pending and self._fill is None:
            self._fill = asyncio.get_running_loop().call_later(GAP_WAIT, self.fill)

    def _drain(self) -> None:
        pending = self._pending
        while (entry := pending.pop(self.applied + 1, None)) is not None:
            self.applied = entry.id
            try:
                self._apply(entry)
            except Exception:  # a bug must not stop the stream for good
                log.exception("could not apply stream entry %d", entry.id)

    def fill(self) -> None:
        """Read what is missing from the database, up to what is held."""
        self._fill = None
        try:
            entries = self._source.stream_since(self.applied, FILL_LIMIT)
        except Exception as exc:
            log.warning("could not read the stream from the database: %s: %s",
                        type(exc).__name__, exc)
            entries = []
        for entry in entries:
            if entry.id > self.applied and entry.id not in self._pending:
                self.filled_from_database += 1
                self._pending[entry.id] = entry
        self._drain()
        if (self._pending or len(entries) >= FILL_LIMIT) and self._fill is None:
            delay = 0.0 if len(entries) >= FILL_LIMIT else POLL_PERIOD
            self._fill = asyncio.get_running_loop().call_later(delay, self.fill)

    def catch_up(self) -> None:
        """Apply everything committed up to now, reading the database: for a
        login whose client has seen more than this node has applied (it
        came from a node that was ahead); its seq must not look like another
        history's."""
        if self._fill is not None:
            self._fill.cancel()
            self._fill = None
        try:
            head = self._source.stream_head()
        except Exception as exc:
            log.warning("could not read the stream's head: %s: %s", type(exc).__name__, exc)
            return
        while self.applied < head:
            before = self.applied
            self.fill()
            if self.applied == before:
                break

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(POLL_PERIOD)
            try:
                head = self._source.stream_head()
            except Exception as exc:
                log.debug("stream head unknown: %s", exc)
                continue
            if head > self.applied and self._fill is None:
                self.fill()

    def stop(self) -> None:
        if self._fill is not None:
            self._fill.cancel()
            self._fill = None
        if self._poller is not None:
            self._poller.cancel()
