"""The receive buffer: whole frames out, hard limits in.

Bytes are appended at the end and frames are taken from a read offset, so a
large read holding many small frames is parsed in linear time; consumed bytes
are dropped only when they are the larger part of the buffer.
"""

from __future__ import annotations

import functools

from .errors import ErrorCode, LocalProtocolError, RemoteProtocolError
from .limits import HEADER_SIZE
from .wire import HEADER, LAYOUT_BY_CODE, Layout

_unpack_header = HEADER.unpack_from


@functools.cache
def _limits_table(max_frame_size: int) -> dict[int, tuple[Layout, int]]:
    """Each type's layout and payload limit; one shared table per frame size,
    as a server holds thousands of buffers."""
    return {
        code: (layout, layout.max_payload_for(max_frame_size))
        for code, layout in LAYOUT_BY_CODE.items()
    }


class ReceiveBuffer:
    """Splits a byte stream into ``(type_code, payload)`` frames.

    ``max_frame_size`` bounds each payload, checked as soon as the header is
    in, before the body is buffered. ``max_buffered`` bounds the unparsed
    bytes an adapter may hand over without draining frames in between.
    """

    __slots__ = ("_data", "_layouts", "_start", "closed", "max_buffered", "max_frame_size")

    def __init__(self, max_frame_size: int, max_buffered: int) -> None:
        self.max_frame_size = max_frame_size
        self.max_buffered = max_buffered
        self._data = bytearray()
        self._start = 0
        # Each type's payload limit, fixed for this buffer: checked the moment
        # a header is complete, before any of the body is buffered.
        self._layouts = _limits_table(max_frame_size)
        self.closed = False

    def __len__(self) -> int:
        return len(self._data) - self._start

    def feed(self, data: bytes) -> None:
        if self.closed:
            if data:
                raise LocalProtocolError("data received after the peer closed the stream")
            return
        if not data:
            self.closed = True
            return
        if len(self) + len(data) > self.max_buffered:
            raise LocalProtocolError(
                f"receive buffer would hold {len(self) + len(data)} unparsed bytes "
                f"(limit {self.max_buffered}); call next_event() between reads"
            )
        if self._start and self._start * 2 >= len(self._data):
            del self._data[: self._start]
            self._start = 0
        self._data += data

    def next_frame(self) -> tuple[Layout, bytes] | None:
        """The next whole frame and the layout of its type, or None if more
        bytes are needed."""
        data = self._data
        start = self._start
        if len(data) - start < HEADER_SIZE:
            return None
        type_code, length = _unpack_header(data, start)
        entry = self._layouts.get(type_code)
        if entry is None:
            raise RemoteProtocolError(
                f"unknown message type 0x{type_code:02x}", ErrorCode.UNKNOWN_TYPE
            )
        layout, limit = entry
        if length > limit:
            raise RemoteProtocolError(
                f"{layout.event_class.__name__} frame of {length} bytes exceeds its "
                f"limit of {limit}",
                ErrorCode.FRAME_TOO_LARGE,
            )
        end = start + HEADER_SIZE + length
        if end > len(data):
            return None
        payload = bytes(data[start + HEADER_SIZE : end])
        if end == len(data):
            data.clear()
            self._start = 0
        else:
            self._start = end
        return layout, payload

    def truncated(self) -> bool:
        """The stream ended inside a frame."""
        return self.closed and len(self) > 0
