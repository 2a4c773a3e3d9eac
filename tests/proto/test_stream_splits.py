"""The events decoded from a stream do not depend on how its bytes are split."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatproto import NEED_DATA, ClientConnection, ServerConnection, encode_event
from chatproto import events as ev
from chatproto.buffer import ReceiveBuffer
from chatproto.limits import DEFAULT_MAX_FRAME_SIZE, HEADER_SIZE, PROTOCOL_VERSION

from .strategies import any_event, server_broadcasts, splits
from .support import decode_frame, feed, greeted_pair, login_reply

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _server_stream(events: list[ev.Event]) -> tuple[bytes, list[ev.Event]]:
    """A valid server-to-client stream: handshake, then ``events``, then Goodbye."""
    _, server = greeted_pair()
    data = login_reply(server)
    for event in events:
        data += server.send(event)
    data += server.send(ev.Goodbye("bye"))
    return data, [*events, ev.Goodbye("bye")]


def _client() -> ClientConnection:
    return greeted_pair()[0]


def _received(pieces: list[bytes]) -> list[ev.Event]:
    """What a logged-in client decodes from ``pieces``, after the handshake events."""
    events = feed(_client(), pieces)
    assert [type(e) for e in events[:2]] == [ev.Hello, ev.LoginAccepted]
    return events[2:]


@given(st.lists(server_broadcasts, max_size=12), st.data())
@SETTINGS
def test_whole_bytewise_and_random_splits_agree(events: list[ev.Event],
                                                data: st.DataObject) -> None:
    stream, expected = _server_stream(events)
    whole = _received([stream])
    assert whole == expected
    assert _received([stream[i : i + 1] for i in range(len(stream))]) == expected
    assert _received(data.draw(splits(stream))) == expected


@given(st.lists(server_broadcasts, max_size=8), st.data())
@SETTINGS
def test_end_of_stream_after_any_split_is_a_clean_close(events: list[ev.Event],
                                                         data: st.DataObject) -> None:
    stream, expected = _server_stream(events)
    received = _received([*data.draw(splits(stream)), b""])
    assert received == [*expected, ev.ConnectionClosed(clean=True)]


@given(st.lists(any_event, min_size=1, max_size=6), st.data())
@SETTINGS
def test_the_frame_splitter_alone_is_split_independent(events: list[ev.Event],
                                                       data: st.DataObject) -> None:
    """Every message type (whatever the state would say) through the raw frame buffer."""
    frames = [encode_event(event) for event in events]
    stream = b"".join(frames)
    buffer = ReceiveBuffer(DEFAULT_MAX_FRAME_SIZE, max_buffered=len(stream) + 1)
    decoded = []
    for piece in data.draw(splits(stream)):
        buffer.feed(piece)
        while (frame := buffer.next_frame()) is not None:
            layout, payload = frame
            decoded.append(decode_frame(bytes([layout.type_code]) + len(payload).to_bytes(4, "big")
                                        + payload))
        assert len(buffer) < HEADER_SIZE + DEFAULT_MAX_FRAME_SIZE
    assert decoded == events
    assert len(buffer) == 0


def _serve(server: ServerConnection, pieces: list[bytes]) -> list[ev.Event]:
    """Decode like a server adapter: answer Hello and Login as soon as they come out."""
    got: list[ev.Event] = []
    for piece in pieces:
        server.receive_data(piece)
        while not isinstance(event := server.next_event(), type(NEED_DATA)):
            got.append(event)
            if isinstance(event, ev.Hello):
                server.send(server.hello())
            elif isinstance(event, ev.Login):
                server.send(ev.LoginAccepted(event.username, True, False, 0))
    return got


@given(st.lists(st.sampled_from([ev.Ping(1), ev.SendChat("안녕\n하세요", None, 3), ev.Pong(2),
                                 ev.SendChat("x" * 2000, "bob", 4)]), max_size=10), st.data())
@SETTINGS
def test_client_to_server_stream_is_split_independent(events: list[ev.Event],
                                                      data: st.DataObject) -> None:
    hello = ev.Hello(PROTOCOL_VERSION, DEFAULT_MAX_FRAME_SIZE, "chatproto")
    login = ev.Login("bob", "pw")
    stream = b"".join(encode_event(e) for e in [hello, login, *events])
    expected = [hello, login, *events]
    assert _serve(ServerConnection(), [stream]) == expected
    assert _serve(ServerConnection(), [stream[i : i + 1] for i in range(len(stream))]) == expected
    assert _serve(ServerConnection(), data.draw(splits(stream))) == expected
