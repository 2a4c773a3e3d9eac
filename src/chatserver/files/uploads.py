"""Receiving uploads: stream to a temp file, hash on the way, verify, keep.

The peer's file name is only ever a display name (sanitised); a stored file
is named by a random token chosen here. Where its bytes live is a seam
(``FileBytes``): a single server keeps them under ``<data dir>/files``
(``DiskBytes``), a cluster in PostgreSQL, where every node reads them
(``cluster.pg_files``). Uploads in progress are always on the local disk.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import shutil
from collections.abc import Container
from pathlib import Path
from typing import BinaryIO, Protocol

from chatproto import (
    FileAvailable,
    FileOffer,
    FileRejected,
    RejectReason,
    is_room_target,
    sanitize_filename,
)

from ..log import log

FALLBACK_NAME = sanitize_filename("")


class UploadFailed(Exception):
    """An upload is refused; ``reason`` goes into ``FileRejected``."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    def rejection(self, upload_id: int) -> FileRejected:
        return FileRejected(upload_id, self.reason, self.message)


class Upload:
    def __init__(
        self, storage: FileStorage, offer: FileOffer, name: str, path: Path, handle: BinaryIO
    ) -> None:
        self.storage = storage
        self.offer = offer
        self.name = name
        self.path = path
        self.handle = handle
        self.hash = hashlib.sha256()
        self.failure: UploadFailed | None = None
        self.reserved = offer.size
        storage.reserved += offer.size

    def wrote(self, count: int) -> None:
        """``count`` more bytes are on disk (and counted there now)."""
        count = min(count, self.reserved)
        self.reserved -= count
        self.storage.reserved -= count

    def release(self) -> None:
        """Its bytes are on disk for good, or gone: no more space held for it."""
        self.storage.reserved -= self.reserved
        self.reserved = 0

    def discard(self) -> None:
        self.handle.close()
        self.path.unlink(missing_ok=True)
        self.release()


class ByteReader(Protocol):
    """One stored file, open for reading."""

    async def read(self, position: int, count: int) -> bytes:
        """At most ``count`` bytes from ``position``, perhaps fewer (the rest
        of a chunk); none only at the end. Raises ``OSError`` when the bytes
        cannot be read."""
        ...

    def close(self) -> None: ...


class FileBytes(Protocol):
    """Where stored files' bytes live, by stored name."""

    @property
    def inline(self) -> bool:
        """``keep`` is a quick local step (a rename), done on the event loop
        at once; otherwise it runs on a worker thread before the announcement."""
        ...

    def keep(self, partial: Path, stored_name: str) -> None:
        """Store the verified upload at ``partial`` as ``stored_name`` (which
        may then be removed). Blocking; raises ``OSError`` or the backend's error."""
        ...

    def reader(self, stored_name: str) -> ByteReader:
        """Its bytes; raises ``OSError`` if it is known to be missing."""
        ...

    def size(self, stored_name: str) -> int | None:
        """How many bytes are stored under the name, None if none are."""
        ...

    def delete(self, stored_name: str) -> None: ...

    def clean(self, known: set[str]) -> None:
        """Remove the stored bytes of files no history entry refers to."""
        ...

    def close(self) -> None: ...


class _DiskReader:
    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle

    async def read(self, position: int, count: int) -> bytes:
        # On the loop, as a single server always read: the OS cache answers.
        if self._handle.tell() != position:
            self._handle.seek(position)
        return self._handle.read(count)

    def close(self) -> None:
        self._handle.close()


class DiskBytes:
    """Stored files as files of one folder: the single server's ``FileBytes``."""

    inline = True

    def __init__(self, files_dir: Path) -> None:
        self.files_dir = files_dir
        files_dir.mkdir(exist_ok=True)

    def keep(self, partial: Path, stored_name: str) -> None:
        os.replace(partial, self.files_dir / stored_name)

    def reader(self, stored_name: str) -> ByteReader:
        return _DiskReader((self.files_dir / stored_name).open("rb"))

    def size(self, stored_name: str) -> int | None:
        try:
            return (self.files_dir / stored_name).stat().st_size
        except OSError:
            return None

    def delete(self, stored_name: str) -> None:
        (self.files_dir / stored_name).unlink(missing_ok=True)

    def clean(self, known: set[str]) -> None:
        for path in self.files_dir.iterdir():
            if path.name not in known:
                log.warning("removing unreferenced stored file %s", path.name)
                path.unlink(missing_ok=True)

    def close(self) -> None:
        pass


class FileStorage:
    """Uploads in progress (a folder), and where stored files go (``bytes``)."""

    def __init__(self, data_dir: Path, max_file_size: int, min_free_space: int,
                 file_bytes: FileBytes | None = None) -> None:
        self.files_dir = data_dir / "files"
        self.partial_dir = data_dir / "partial"
        self.bytes: FileBytes = file_bytes or DiskBytes(self.files_dir)
        self.max_file_size = max_file_size
        self.min_free_space = min_free_space
        #: Bytes promised to uploads in progress (so parallel uploads cannot
        #: together overfill the disk).
        self.reserved = 0
        self.partial_dir.mkdir(exist_ok=True)

    def path_of(self, stored_name: str) -> Path:
        """Where ``DiskBytes`` keeps a stored file (single server only)."""
        return self.files_dir / stored_name

    def clean(self, known: set[str]) -> None:
        """Remove partial uploads and files no history entry refers to
        (left by a crash between storing a file and committing it)."""
        for path in self.partial_dir.iterdir():
            path.unlink(missing_ok=True)
        self.bytes.clean(known)

    def check_offer(self, offer: FileOffer, accounts: Container[str]) -> str:
        """The display name for ``offer``; raises ``UploadFailed`` to refuse it."""
        # A room recipient is checked against the rooms before (transfers.py).
        if offer.recipient is not None and not is_room_target(offer.recipient) \
                and offer.recipient not in accounts:
            raise UploadFailed(RejectReason.UNKNOWN_USER, "no such user")
        if offer.size > self.max_file_size:
            raise UploadFailed(
                RejectReason.TOO_LARGE, f"the limit is {self.max_file_size} bytes"
            )
        name = sanitize_filename(offer.name)
        if name == FALLBACK_NAME and offer.name != FALLBACK_NAME:
            raise UploadFailed(RejectReason.BAD_NAME, "the file name has no usable characters")
        free = shutil.disk_usage(self.partial_dir).free - self.reserved
        if free - offer.size < self.min_free_space:
            raise UploadFailed(RejectReason.STORAGE_FULL, "the server's disk is full")
        return name

    def open(self, offer: FileOffer, name: str) -> Upload:
        path = self.partial_dir / f"{secrets.token_hex(16)}.part"
        try:
            handle = path.open("xb")
        except OSError as exc:
            raise UploadFailed(RejectReason.STORAGE_FULL, "cannot store the file") from exc
        return Upload(self, offer, name, path, handle)

    def keep(self, upload: Upload) -> str:
        """Move a verified upload into place (``bytes.inline``); returns its stored name."""
        upload.handle.close()
        stored_name = secrets.token_hex(16)
        self.bytes.keep(upload.path, stored_name)
        upload.release()
        return stored_name

    async def keep_away(self, upload: Upload) -> str:
        """Copy a verified upload to ``bytes`` on a worker thread (the loop
        goes on meanwhile), then drop the partial file; its stored name."""
        upload.handle.close()
        stored_name = secrets.token_hex(16)
        try:
            await asyncio.to_thread(self.bytes.keep, upload.path, stored_name)
        finally:
            upload.discard()
        return stored_name


class Uploads:
    """The uploads open on one connection."""

    def __init__(self, storage: FileStorage) -> None:
        self.storage = storage
        self._open: dict[int, Upload] = {}

    def offer(self, offer: FileOffer, accounts: Container[str]) -> None:
        """Start receiving ``offer``; raises ``UploadFailed`` to refuse it."""
        name = self.storage.check_offer(offer, accounts)
        self._open[offer.upload_id] = self.storage.open(offer, name)

    def chunk(self, upload_id: int, data: bytes) -> None:
        upload = self._open[upload_id]
        if upload.failure is not None:
            return  # already failed: drop the rest, answer at FileEnd
        try:
            upload.handle.write(data)
        except OSError:
            upload.failure = UploadFailed(RejectReason.STORAGE_FULL, "cannot store the file")
            return
        upload.hash.update(data)
        upload.wrote(len(data))

    def finish(self, upload_id: int, sender: str) -> tuple[FileAvailable, str]:
        """Verify and keep a complete upload (``bytes.inline``): the
        announcement (seq and file id still 0) and its stored name. Raises
        ``UploadFailed``."""
        announcement, upload = self.verify(upload_id, sender)
        try:
            stored_name = self.storage.keep(upload)
        except OSError as exc:
            upload.discard()
            raise UploadFailed(RejectReason.STORAGE_FULL, "cannot store the file") from exc
        return announcement, stored_name

    def verify(self, upload_id: int, sender: str) -> tuple[FileAvailable, Upload]:
        """A complete upload checked against its offer, not kept yet: its
        announcement and the upload (for ``FileStorage.keep_away``). Raises
        ``UploadFailed``, the upload discarded."""
        upload = self._open.pop(upload_id)
        offer = upload.offer
        failure = upload.failure
        if failure is None and upload.hash.digest() != offer.sha256:
            failure = UploadFailed(
                RejectReason.CHECKSUM_MISMATCH, "the data does not match its SHA-256"
            )
        if failure is not None:
            upload.discard()
            raise failure
        announcement = FileAvailable(
            0, 0, 0, sender, offer.recipient, upload.name, offer.size, offer.sha256,
            offer.upload_id,
        )
        return announcement, upload

    def abort_all(self) -> None:
        for upload in self._open.values():
            upload.discard()
        self._open.clear()
