"""The local side of transfers: reading uploads, partial downloads, safe names.

Peer-chosen names never reach the file system as given: they pass through
``sanitize_filename`` and land under a name no existing file has.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ..files import sanitize_filename, unique_name
from ..limits import MAX_FILENAME_BYTES

READ_SIZE = 1_048_576
PART_SUFFIX = ".part"


def hash_file(path: Path, limit: int | None = None) -> tuple[bytes, int]:
    """SHA-256 and length of the first ``limit`` bytes of ``path`` (all when None)."""
    digest = hashlib.sha256()
    length = 0
    with path.open("rb") as stream:
        while limit is None or length < limit:
            want = READ_SIZE if limit is None else min(READ_SIZE, limit - length)
            piece = stream.read(want)
            if not piece:
                break
            digest.update(piece)
            length += len(piece)
    return digest.digest(), length


def partial_path(folder: Path, name: str, sha256: bytes) -> Path:
    """Where the download of ``name`` with this content hash is kept while
    incomplete. It depends on the content only, so a restarted program finds
    and resumes it."""
    suffix = f".{sha256.hex()[:16]}{PART_SUFFIX}"
    safe = sanitize_filename(name)
    budget = MAX_FILENAME_BYTES - len(suffix.encode("utf-8"))
    stem = safe.encode("utf-8")[:budget].decode("utf-8", errors="ignore") or "file"
    return folder / (stem + suffix)


def publish(part: Path, folder: Path, name: str) -> Path:
    """Move the finished ``part`` to a safe name in ``folder`` that no file has
    yet, without ever replacing an existing file (even one created meanwhile)."""
    safe = sanitize_filename(name)
    while True:
        target = folder / unique_name(safe, os.listdir(folder))
        try:
            os.link(part, target)  # fails if the target exists: never clobbers
        except FileExistsError:
            continue
        except OSError:
            # No hard links here (some file systems): check, then rename.
            if target.exists():
                continue
            os.replace(part, target)
            return target
        part.unlink()
        return target


__all__ = ["PART_SUFFIX", "hash_file", "partial_path", "publish"]
