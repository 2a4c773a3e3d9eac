"""Book-keeping of transfers in flight, fed by the session's read loop.

An ``UploadWaiter`` holds the two answers an upload waits for (accepted,
then announced); a ``FetchSink`` writes a download's chunks straight to its
partial file as they arrive, so the socket is read no faster than the disk
takes the bytes, and hashes them on the way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from ..events import FileAvailable, RejectReason
from ..files import Reassembler, ReassemblyError
from .errors import FileRefused

ProgressCallback = Callable[[int, int], None]


class UploadWaiter:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.accepted: asyncio.Future[None] = loop.create_future()
        self.available: asyncio.Future[FileAvailable] = loop.create_future()

    def complete(self, announcement: FileAvailable) -> None:
        """Our upload was verified and announced: that answers the offer too,
        so an upload still waiting to be accepted stops waiting."""
        if not self.accepted.done():
            self.accepted.set_result(None)
        if not self.available.done():
            self.available.set_result(announcement)

    def reject(self, error: BaseException) -> None:
        for future in (self.accepted, self.available):
            if not future.done():
                future.set_exception(error)
                # Mark retrieved: only the future being awaited is read.
                future.exception()


class FetchSink:
    """Receives one fetch: ``chunk`` per FileChunk, ``end`` at FileEnd."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        stream: BinaryIO,
        reassembler: Reassembler,
        name: str,
        progress: ProgressCallback | None,
    ) -> None:
        self.done: asyncio.Future[None] = loop.create_future()
        self._stream = stream
        self._reassembler = reassembler
        self._name = name
        self._progress = progress
        self._error: BaseException | None = None

    @property
    def received(self) -> int:
        return self._reassembler.received

    def chunk(self, offset: int, data: bytes) -> None:
        if self._error is not None:
            return  # already failed: let the rest of the stream drain past
        try:
            self._reassembler.add(offset, data)
            self._stream.write(data)
        except ReassemblyError as exc:
            self._error = FileRefused(f"{self._name}: bad data from the server ({exc})", "bad-data")
            return
        except OSError as exc:
            self._error = FileRefused(
                f"cannot write {self._name}: {exc.strerror or exc}", "unwritable"
            )
            return
        if self._progress is not None:
            try:
                self._progress(self._reassembler.received, self._reassembler.size)
            except Exception as exc:  # the caller's callback: fail its download only
                self._error = exc

    def end(self) -> None:
        if self._error is None and not self._reassembler.verify():
            self._error = FileRefused(
                f"{self._name}: the received bytes do not match the announced SHA-256",
                RejectReason.CHECKSUM_MISMATCH,
            )
        self.finish(self._error)

    def abandon(self) -> None:
        """Nobody waits any more: swallow the rest of the stream, unwritten."""
        if self._error is None:
            self._error = FileRefused("download abandoned", "cancelled")
        self.done.add_done_callback(lambda done: done.cancelled() or done.exception())

    def finish(self, error: BaseException | None) -> None:
        if self.done.done():
            return
        if error is None:
            self.done.set_result(None)
        else:
            self.done.set_exception(error)


def feed_prefix(reassembler: Reassembler, part: Path, length: int) -> None:
    """Hash the first ``length`` bytes already in ``part`` (runs in a thread)."""
    with part.open("rb") as stream:
        left = length
        while left:
            piece = stream.read(min(left, 1_048_576))
            if not piece:
                raise OSError(f"{part} is shorter than {length} bytes")
            reassembler.add_prefix(piece)
            left -= len(piece)


def open_upload(path: Path) -> tuple[BinaryIO, int]:
    """Open a file to upload and return it with its size; FileRefused when
    it is missing, a directory, or unreadable."""
    try:
        if not path.is_file():
            what = "does not exist" if not path.exists() else "is not a regular file"
            raise FileRefused(f"{path}: {what}", "unreadable")
        stream = path.open("rb")
    except OSError as exc:
        raise FileRefused(f"cannot read {path}: {exc.strerror or exc}", "unreadable") from None
    return stream, path.stat().st_size


__all__ = ["FetchSink", "ProgressCallback", "UploadWaiter", "feed_prefix", "open_upload"]
