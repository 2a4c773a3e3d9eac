"""``Range: bytes=...`` of a download (RFC 9110 14.2), one range only.

A resumed download asks for one range; several ranges (multipart answers)
are not worth their code here, so such a request, or one that does not
parse, gets the whole file, as the RFC allows a server to answer.
"""

from __future__ import annotations

from typing import Literal

Span = tuple[int, int] | Literal["unsatisfiable"] | None


def byte_range(value: bytes, size: int) -> Span:
    """The [start, end) that ``value`` asks of a ``size``-byte file, the
    string ``"unsatisfiable"`` (answer 416), or None (answer the whole file)."""
    unit, _, spec = value.partition(b"=")
    if unit.strip().lower() != b"bytes" or b"," in spec:
        return None
    first, dash, last = spec.strip().partition(b"-")
    if not dash or not (first.isdigit() or last.isdigit()):
        return None
    if (first and not first.isdigit()) or (last and not last.isdigit()):
        return None
    if not first:  # the last N bytes
        suffix = int(last)
        if suffix == 0:
            return "unsatisfiable"
        return (max(size - suffix, 0), size)
    start = int(first)
    if start >= size:
        return "unsatisfiable"
    end = min(int(last) + 1, size) if last else size
    if end <= start:
        return None  # last before first: not a valid range, so ignored
    return (start, end)
