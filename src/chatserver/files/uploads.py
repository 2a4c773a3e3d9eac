"""Receiving uploads: stream to a temp file, hash on the way, verify, keep.

The peer's file name is only ever a display name (sanitised); on disk a file
is named by a random token chosen here, under ``<data dir>/files``.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from collections.abc import Container
from pathlib import Path
from typing import BinaryIO

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


class _Upload:
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


class FileStorage:
    """The folders of stored files and of uploads in progress."""

    def __init__(self, data_dir: Path, max_file_size: int, min_free_space: int) -> None:
        self.files_dir = data_dir / "files"
        self.partial_dir = data_dir / "partial"
        self.max_file_size = max_file_size
        self.min_free_space = min_free_space
        #: Bytes promised to uploads in progress (so parallel uploads cannot
        #: together overfill the disk).
        self.reserved = 0
        self.files_dir.mkdir(exist_ok=True)
        self.partial_dir.mkdir(exist_ok=True)

    def path_of(self, stored_name: str) -> Path:
        return self.files_dir / stored_name

    def clean(self, known: set[str]) -> None:
        """Remove partial uploads and files no history entry refers to
        (left by a crash between storing a file and committing it)."""
        for path in self.partial_dir.iterdir():
            path.unlink(missing_ok=True)
        for path in self.files_dir.iterdir():
            if path.name not in known:
                log.warning("removing unreferenced stored file %s", path.name)
                path.unlink(missing_ok=True)

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

    def open(self, offer: FileOffer, name: str) -> _Upload:
        path = self.partial_dir / f"{secrets.token_hex(16)}.part"
        try:
            handle = path.open("xb")
        except OSError as exc:
            raise UploadFailed(RejectReason.STORAGE_FULL, "cannot store the file") from exc
        return _Upload(self, offer, name, path, handle)

    def keep(self, upload: _Upload) -> str:
        """Move a verified upload into place; returns its stored name."""
        upload.handle.close()
        stored_name = secrets.token_hex(16)
        os.replace(upload.path, self.path_of(stored_name))
        upload.release()
        return stored_name


class Uploads:
    """The uploads open on one connection."""

    def __init__(self, storage: FileStorage) -> None:
        self.storage = storage
        self._open: dict[int, _Upload] = {}

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
        """Verify and keep a complete upload: the announcement (seq and file id
        still 0) and its stored name. Raises ``UploadFailed``."""
        upload = self._open.pop(upload_id)
        offer = upload.offer
        try:
            if upload.failure is not None:
                raise upload.failure
            if upload.hash.digest() != offer.sha256:
                raise UploadFailed(
                    RejectReason.CHECKSUM_MISMATCH, "the data does not match its SHA-256"
                )
            try:
                stored_name = self.storage.keep(upload)
            except OSError as exc:
                raise UploadFailed(RejectReason.STORAGE_FULL, "cannot store the file") from exc
        except UploadFailed:
            upload.discard()
            raise
        announcement = FileAvailable(
            0, 0, 0, sender, offer.recipient, upload.name, offer.size, offer.sha256,
            offer.upload_id,
        )
        return announcement, stored_name

    def abort_all(self) -> None:
        for upload in self._open.values():
            upload.discard()
        self._open.clear()
