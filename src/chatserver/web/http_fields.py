"""The header fields of HTTP messages, as h11 gives and takes them.

Their own module because both the connection (``http_app.py``) and the
rules of the file requests (``file_requests.py``) read a request's fields,
and the rules must not import the connection that applies them.
"""

from __future__ import annotations

from collections.abc import Sequence

Headers = list[tuple[bytes, bytes]]
#: What h11 gives of a request's headers: names lowercased.
RequestHeaders = Sequence[tuple[bytes, bytes]]


def header(headers: RequestHeaders, name: bytes, default: bytes = b"") -> bytes:
    """The value of the first field called ``name`` (lowercase), else ``default``."""
    for key, value in headers:
        if key == name:
            return value
    return default
