"""The client's own files: uploads read, partial downloads, safe names, and the
small state files (pins, last seq, settings) replaced atomically.

Peer-chosen names never reach the file system as given: they pass through
``sanitize_filename`` and land under a name no existing file has.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

from ..files import sanitize_filename, unique_name
from ..limits import MAX_FILENAME_BYTES, truncate_utf8

READ_SIZE = 1_048_576
PART_SUFFIX = ".part"


def hash_file(path: Path) -> tuple[bytes, int]:
    """SHA-256 and length of the file at ``path``, read in 1 MiB pieces."""
    digest = hashlib.sha256()
    length = 0
    with path.open("rb") as stream:
        while piece := stream.read(READ_SIZE):
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
    stem = truncate_utf8(safe, budget) or "file"
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


def write_atomically(path: Path, text: str, errors: str = "strict") -> None:
    """Replace ``path`` with ``text`` (UTF-8) so that a crash or a kill at any
    moment leaves the old file or the new one, never half of one: a temporary
    file beside it, written, fsynced, renamed over it, and the folder fsynced
    so the rename lasts too. Creates the folder; raises ``OSError``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors=errors) as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    with contextlib.suppress(OSError):  # not every platform can open a folder
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


__all__ = ["PART_SUFFIX", "hash_file", "partial_path", "publish", "write_atomically"]
