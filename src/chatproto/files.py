"""Pure helpers for file transfers: chunking, reassembly, hashing, safe names.

Nothing here touches the file system: streams come in as iterables of bytes
and go out as offset-tagged chunks; the caller does the reading and writing.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator

import attrs

from .limits import DEFAULT_CHUNK_SIZE, MAX_FILENAME_BYTES, truncate_utf8


@attrs.frozen
class Chunk:
    offset: int
    data: bytes = attrs.field(repr=lambda d: f"<{len(d)} bytes>")


def iter_chunks(
    stream: Iterable[bytes], chunk_size: int = DEFAULT_CHUNK_SIZE, start: int = 0
) -> Iterator[Chunk]:
    """Re-cut a stream of byte strings of any size into chunks of exactly
    ``chunk_size`` bytes (the last may be shorter), tagged with offsets."""
    if chunk_size < 1:
        raise ValueError("chunk_size must be positive")
    pending = bytearray()
    offset = start
    for piece in stream:
        pending += piece
        while len(pending) >= chunk_size:
            yield Chunk(offset, bytes(pending[:chunk_size]))
            del pending[:chunk_size]
            offset += chunk_size
    if pending:
        yield Chunk(offset, bytes(pending))


class ReassemblyError(ValueError):
    """A chunk left a gap, overlapped, or ran past the announced size."""


class Reassembler:
    """Checks that chunks arrive in order, without gaps or overlaps, up to
    ``size`` bytes, and hashes them on the way; the caller stores the data."""

    def __init__(self, size: int, sha256: bytes, start: int = 0) -> None:
        if size < 0 or not 0 <= start <= size:
            raise ValueError("invalid size or start offset")
        self.size = size
        self.expected_sha256 = sha256
        self.received = start
        self._hash = hashlib.sha256()

    def add_prefix(self, data: bytes) -> None:
        """Hash bytes stored before a resumed transfer started (from ``start``
        bytes of the existing partial file, in order)."""
        self._hash.update(data)

    def add(self, offset: int, data: bytes) -> None:
        if offset < self.received:
            raise ReassemblyError(f"chunk at {offset} overlaps bytes up to {self.received}")
        if offset > self.received:
            raise ReassemblyError(f"gap: chunk at {offset}, expected {self.received}")
        if self.received + len(data) > self.size:
            raise ReassemblyError(
                f"chunk ends at {self.received + len(data)}, past the size {self.size}"
            )
        self._hash.update(data)
        self.received += len(data)

    @property
    def complete(self) -> bool:
        return self.received == self.size

    def verify(self) -> bool:
        """True when every byte arrived and the SHA-256 matches."""
        return self.complete and self._hash.digest() == self.expected_sha256


def sha256_of(stream: Iterable[bytes]) -> bytes:
    digest = hashlib.sha256()
    for piece in stream:
        digest.update(piece)
    return digest.digest()


_RESERVED_DEVICE = re.compile(
    r"(?i)(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$|clock\$)(\..*)?\Z"
)
_DRIVE = re.compile(r"\A[A-Za-z]:")
_WINDOWS_FORBIDDEN = re.compile(r'[<>:"|?*]')
_FALLBACK_NAME = "file"


def _strip_unsafe_chars(name: str) -> str:
    # Control and format characters (NUL, newlines, ANSI escapes, bidi
    # overrides) and the line and paragraph separators would let a name lie
    # about itself in a listing.
    return "".join(ch for ch in name if unicodedata.category(ch) not in _UNSAFE_CATEGORIES)


_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


def sanitize_filename(name: str) -> str:
    """A safe base name for ``name``, chosen by an untrusted peer.

    Every directory part is dropped (``/``, ``\\``, a drive letter), as are
    control and format characters and line or paragraph separators;
    ``.``/``..``, reserved Windows device names and trailing dots or spaces
    are neutralised; Unicode is kept; the result is at most
    ``MAX_FILENAME_BYTES`` of UTF-8 and never empty.
    """
    name = unicodedata.normalize("NFC", _strip_unsafe_chars(name))
    name = re.split(r"[\\/]", name)[-1]
    # Stripping one thing can expose another ("..C:x" -> "C:x" -> "x"), so
    # strip until nothing changes: no drive, no leading dot (no hidden files,
    # no "." or ".."), no trailing dot or space (Windows drops them).
    while True:
        cleaned = _DRIVE.sub("", name.strip().lstrip(".").rstrip(". ")).strip()
        if cleaned == name:
            break
        name = cleaned
    # Characters Windows refuses; ':' would also open an NTFS data stream.
    name = _WINDOWS_FORBIDDEN.sub("_", name) or _FALLBACK_NAME
    if _RESERVED_DEVICE.match(name):
        name = "_" + name
    return _truncate_utf8(name, MAX_FILENAME_BYTES)


def _truncate_utf8(name: str, limit: int) -> str:
    if len(name.encode("utf-8")) <= limit:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext.encode("utf-8")) > 16:
        stem, ext = name, ""
    suffix = ("." + ext) if ext else ""
    budget = limit - len(suffix.encode("utf-8"))
    return (truncate_utf8(stem, budget) or _FALLBACK_NAME) + suffix


def unique_name(name: str, taken: Iterable[str]) -> str:
    """``name``, or ``name (2).ext``, ``name (3).ext``... not in ``taken``.

    The caller supplies the names present in the target folder, so the file
    system stays outside this module."""
    existing = set(taken)
    if name not in existing:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or len(ext.encode("utf-8")) > 16:
        stem, ext = name, ""
    suffix = f".{ext}" if ext else ""
    counter = 2
    while True:
        marker = f" ({counter}){suffix}"
        # Cut the stem, never the marker, so a name at the byte limit still
        # gets a fresh variant instead of the same truncated one forever.
        budget = MAX_FILENAME_BYTES - len(marker.encode("utf-8"))
        candidate = truncate_utf8(stem, budget) + marker
        if candidate not in existing:
            return candidate
        counter += 1
