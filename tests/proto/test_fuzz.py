"""Arbitrary or mutated bytes give events or RemoteProtocolError, only, in bounded memory."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatproto import (
    NEED_DATA,
    ClientConnection,
    Connection,
    ErrorCode,
    RemoteProtocolError,
    ServerConnection,
    State,
    encode_event,
    username_problem,
)
from chatproto import _generated_codec as generated
from chatproto import _reference_codec as reference
from chatproto import events as ev
from chatproto._codec import decode_payload
from chatproto.connection import MAX_READ_SIZE
from chatproto.limits import DEFAULT_MAX_FRAME_SIZE, HEADER_SIZE, PROTOCOL_VERSION
from chatproto.wire import HEADER, LAYOUT_BY_CLASS, LAYOUTS, Layout

from .strategies import any_event, server_broadcasts, splits
from .support import drain, greeted_pair, login_reply

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
TYPE_CODES = [layout.type_code for layout in LAYOUTS]
MAX_BUFFERED = DEFAULT_MAX_FRAME_SIZE + HEADER_SIZE + MAX_READ_SIZE


@st.composite
def garbage_frames(draw: st.DrawFn) -> bytes:
    """Frames with plausible headers (known types, lengths near the truth) and random bodies."""
    out = b""
    for _ in range(draw(st.integers(1, 6))):
        code = draw(st.sampled_from(TYPE_CODES) | st.integers(0, 255))
        payload = draw(st.binary(max_size=200))
        length = max(0, len(payload) + draw(st.integers(-3, 3)))
        out += HEADER.pack(code, length) + payload
    return out


@st.composite
def mutated(draw: st.DrawFn, stream: bytes) -> bytes:
    """``stream`` with a few random edits: flips, inserts, deletions, duplications, cuts."""
    data = bytearray(stream)
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        pos = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "set", "insert", "delete", "duplicate", "cut"]))
        if action == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif action == "set":
            data[pos] = draw(st.sampled_from([0, 1, 0x7F, 0x80, 0xC3, 0xED, 0xFF]))
        elif action == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif action == "delete":
            del data[pos : pos + draw(st.integers(1, 8))]
        elif action == "duplicate":
            end = min(len(data), pos + draw(st.integers(1, 40)))
            data[pos:pos] = data[pos:end]
        else:
            del data[pos:]
    return bytes(data)


def _react(conn: Connection, event: ev.Event) -> None:
    """Play the adapter's part so that the stream can reach the deeper states."""
    if isinstance(conn, ServerConnection):
        if isinstance(event, ev.Hello) and conn.our_state is State.HELLO:
            conn.send(conn.hello())
        elif isinstance(event, ev.Login) and conn.our_state is State.READY:
            if username_problem(event.username) is None:
                conn.send(ev.LoginAccepted(event.username, True, False, 0))
            else:  # the wire only length-checks a login name; the server judges it
                conn.send(ev.LoginRejected("invalid-name"))


def check_only_events_or_remote_errors(conn: Connection, pieces: list[bytes],
                                       close: bool = True) -> list[ev.Event]:
    """Feed ``pieces`` as an adapter would; assert the only outcomes are events, NEED_DATA
    and RemoteProtocolError, that the error is permanent, and that memory stays bounded."""
    events: list[ev.Event] = []
    for piece in [*pieces, b""] if close else pieces:
        conn.receive_data(piece)
        assert conn.trailing_data <= MAX_BUFFERED
        try:
            while (event := conn.next_event()) is not NEED_DATA:
                assert isinstance(event, ev.Event)
                events.append(event)
                if isinstance(event, ev.ConnectionClosed):
                    return events
                _react(conn, event)
        except RemoteProtocolError as exc:
            assert exc.code in set(ErrorCode)
            assert conn.our_state in (State.ERROR, State.CLOSED)
            with pytest.raises(RemoteProtocolError):
                conn.next_event()
            return events
        # Drained: what is left is at most one incomplete frame.
        assert conn.trailing_data < HEADER_SIZE + DEFAULT_MAX_FRAME_SIZE
    return events


def logged_in_client() -> ClientConnection:
    client, server = greeted_pair()
    client.receive_data(login_reply(server))
    assert len(drain(client)) == 2
    return client


CONNECTIONS: dict[str, Callable[[], Connection]] = {
    "fresh-server": ServerConnection,
    "fresh-client": ClientConnection,
    "logged-in-client": logged_in_client,
    "greeted-client": lambda: greeted_pair()[0],
}
#: A client's Hello and Login, valid in the current layout (written out by hand, they went
#: stale with each new Login field), so that what follows reaches a logging-in server.
_CLIENT_PREFIX = (
    encode_event(ev.Hello(PROTOCOL_VERSION, 1_048_576, "chatproto"))
    + encode_event(ev.Login("bob", "pw"))
)


@pytest.mark.parametrize("kind", CONNECTIONS)
@given(data=st.binary(max_size=3000), cut=st.data())
@SETTINGS
def test_arbitrary_bytes(kind: str, data: bytes, cut: st.DataObject) -> None:
    check_only_events_or_remote_errors(CONNECTIONS[kind](), cut.draw(splits(data)))


@pytest.mark.parametrize("kind", CONNECTIONS)
@given(data=garbage_frames(), cut=st.data())
@SETTINGS
def test_plausible_garbage_frames(kind: str, data: bytes, cut: st.DataObject) -> None:
    check_only_events_or_remote_errors(CONNECTIONS[kind](), cut.draw(splits(data)))


@given(data=garbage_frames(), cut=st.data())
@SETTINGS
def test_garbage_after_a_valid_login_reaches_the_active_server(data: bytes,
                                                               cut: st.DataObject) -> None:
    check_only_events_or_remote_errors(ServerConnection(), cut.draw(splits(_CLIENT_PREFIX + data)))


@given(st.lists(server_broadcasts, max_size=8), st.data())
@SETTINGS
def test_mutated_server_streams(events: list[ev.Event], data: st.DataObject) -> None:
    client, server = greeted_pair()
    stream = login_reply(server) + b"".join(server.send(e) for e in events)
    check_only_events_or_remote_errors(client, data.draw(splits(data.draw(mutated(stream)))))


@given(st.lists(st.sampled_from([ev.SendChat("안녕", None, 1), ev.Ping(2), ev.SendChat("a", "b")]),
                max_size=6), st.data())
@SETTINGS
def test_mutated_client_streams(events: list[ev.Event], data: st.DataObject) -> None:
    stream = _CLIENT_PREFIX + b"".join(encode_event(e) for e in events)
    check_only_events_or_remote_errors(
        ServerConnection(), data.draw(splits(data.draw(mutated(stream))))
    )


# -- the fast codec and the reference codec agree ------------------------------------


def _generated_or_none(layout: Layout, payload: bytes) -> ev.Event | None:
    """The generated decoder's event, or None when it refuses (with its own signals only)."""
    try:
        return generated.DECODERS[layout](payload)
    except generated.FAST_PATH_SIGNALS:
        return None


def _reference_or_none(layout: Layout, payload: bytes) -> ev.Event | None:
    try:
        return reference.decode(layout, payload)
    except RemoteProtocolError:
        return None


@given(any_event, st.data())
@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_fast_and_reference_decoders_agree_on_mutated_payloads(event: ev.Event,
                                                               data: st.DataObject) -> None:
    layout = LAYOUT_BY_CLASS[type(event)]
    payload = data.draw(mutated(encode_event(event)))[HEADER_SIZE:]
    by_reference = _reference_or_none(layout, payload)
    fast = _generated_or_none(layout, payload)
    assert fast == by_reference
    if by_reference is None:
        with pytest.raises(RemoteProtocolError):
            decode_payload(layout, payload)
    else:
        assert decode_payload(layout, payload) == by_reference


@given(st.sampled_from(LAYOUTS), st.binary(max_size=300))
@SETTINGS
def test_fast_and_reference_decoders_agree_on_random_payloads(layout: Layout,
                                                              payload: bytes) -> None:
    assert _generated_or_none(layout, payload) == _reference_or_none(layout, payload)


# -- limits are checked at header time -------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda lay: lay.event_class.__name__)
def test_an_oversized_header_is_refused_before_its_body(layout: Layout) -> None:
    limit = layout.max_payload_for(DEFAULT_MAX_FRAME_SIZE)
    client = logged_in_client()
    client.receive_data(HEADER.pack(layout.type_code, limit + 1))  # no body at all
    with pytest.raises(RemoteProtocolError) as info:
        client.next_event()
    assert info.value.code == ErrorCode.FRAME_TOO_LARGE
    assert client.our_state is State.ERROR


@pytest.mark.parametrize("code", sorted(set(range(256)) - set(TYPE_CODES))[:40])
def test_an_unknown_type_is_refused_from_its_header(code: int) -> None:
    server = ServerConnection()
    server.receive_data(HEADER.pack(code, 0))
    with pytest.raises(RemoteProtocolError) as info:
        server.next_event()
    assert info.value.code == ErrorCode.UNKNOWN_TYPE


def test_a_largest_frame_fed_in_largest_reads_fits_the_bound() -> None:
    """An adapter that reads MAX_READ_SIZE at a time and drains in between never overflows."""
    client = logged_in_client()
    client.send(ev.FetchFile(1, 0))
    size = DEFAULT_MAX_FRAME_SIZE - 16  # the largest chunk the client accepts
    chunks = [ev.FileChunk(1, 0, bytes(size)), ev.FileChunk(1, size, b"\xff" * size)]
    stream = b"".join(encode_event(chunk) for chunk in chunks) + encode_event(ev.FileEnd(1))
    reads = [stream[i : i + MAX_READ_SIZE] for i in range(0, len(stream), MAX_READ_SIZE)]
    events = check_only_events_or_remote_errors(client, reads, close=False)
    assert events == [*chunks, ev.FileEnd(1)]
    assert client.trailing_data == 0


@given(st.lists(any_event, max_size=5))
@settings(max_examples=30, deadline=None)
def test_the_receive_buffer_is_bounded_whatever_the_peer_announces(events: list[ev.Event]) -> None:
    server = ServerConnection()
    huge = HEADER.pack(0x23, DEFAULT_MAX_FRAME_SIZE)  # a FileChunk of the largest size
    pieces = [huge] + [bytes(MAX_READ_SIZE)] * 2
    check_only_events_or_remote_errors(server, pieces)
