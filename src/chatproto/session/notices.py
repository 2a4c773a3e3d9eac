"""Session-level notices that are not protocol frames.

``Disconnected`` ends every event stream; ``Progress`` reports transfers to
the caller's thread in the blocking face.
"""

from __future__ import annotations

import attrs

from ..events import Event


@attrs.frozen
class Disconnected(Event):
    """The last event of a session.

    ``by_us`` is true after ``close()``; ``clean`` is true when either side
    said goodbye first; ``code`` says why (``closed``, ``goodbye``,
    ``connection-lost``, ``timeout``, or the code of the server's Error frame).
    """

    code: str
    message: str
    clean: bool
    by_us: bool = False


@attrs.frozen
class Progress(Event):
    """How far one transfer has got: ``direction`` is ``"upload"`` or
    ``"download"``, ``key`` the local path (upload) or the file id (download)."""

    direction: str
    key: str
    name: str
    done: int
    total: int


__all__ = ["Disconnected", "Progress"]
