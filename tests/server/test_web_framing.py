"""The server's WebSocket frames out: one binary message per chatproto frame,
read back by an independent RFC 6455 parser (the ``websockets`` library's)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from chatserver.web.websocket import as_messages

# Payload sizes on both sides of the 7-bit, 16-bit and 64-bit length forms.
SIZES = st.one_of(st.integers(0, 130), st.integers(65_530, 65_541), st.integers(0, 200_000))


def _frames(payload_sizes: list[int], type_code: int) -> list[bytes]:
    return [bytes([type_code]) + n.to_bytes(4, "big") + bytes([n % 251]) * n
            for n in payload_sizes]


def _messages(data: bytes) -> list[Frame]:
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    frames = []
    while reader.buffer:
        parser = Frame.parse(reader.read_exact, mask=False)
        try:
            while True:
                next(parser)
        except StopIteration as done:
            frames.append(done.value)
    return frames


@given(st.lists(SIZES, max_size=6), st.integers(0, 255))
@settings(max_examples=60, deadline=None)
def test_each_frame_is_one_unmasked_binary_message(sizes: list[int], type_code: int) -> None:
    frames = _frames(sizes, type_code)
    messages = _messages(as_messages(b"".join(frames)))
    assert [m.opcode for m in messages] == [Opcode.BINARY] * len(frames)
    assert all(m.fin and not (m.rsv1 or m.rsv2 or m.rsv3) for m in messages)
    assert [bytes(m.data) for m in messages] == frames
