"""Fuzz targets for the receive paths of chatproto, independent of any fuzzer.

``run_one(data)`` is the whole target: atheris (``fuzz_receive.py``) and the
hypothesis fallback (``tests/security/test_fuzz.py``) both call it. An input is

    byte 0: the scenario (which role receives, and how deep the handshake is)
    byte 1: how the stream is cut into reads, and whether the peer closes
    rest:   the bytes the peer sends

The rules checked: the only exception that may leave the core is
``RemoteProtocolError`` (and it sticks: every later ``next_event`` raises the
same error); the receive buffer never holds more than its bound; open
transfers stay within their limits; every decoded event re-encodes to an
equal event; the generated codec and the reference codec agree on every
payload, and the generated one refuses only with its own signals. Anything
else propagates, which the fuzzer reports as a crash.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

from chatproto import NEED_DATA, ClientConnection, Connection, ServerConnection, encode_event
from chatproto import _reference_codec as reference_codec
from chatproto import events as ev
from chatproto._codec import decode_payload
from chatproto._generated_codec import DECODERS, FAST_PATH_SIGNALS
from chatproto.connection import MAX_READ_SIZE
from chatproto.errors import RemoteProtocolError
from chatproto.limits import (
    HEADER_SIZE,
    MAX_OPEN_FETCHES,
    MAX_OPEN_UPLOADS,
    PROTOCOL_VERSION,
    username_problem,
)
from chatproto.state import State
from chatproto.wire import HEADER, LAYOUT_BY_CODE, LAYOUTS, Layout

SHA = bytes(range(32))
UPLOAD_ID = 1
UPLOAD_SIZE = 10
FETCH_ID = 7


class HarnessBug(AssertionError):
    """An invariant of the core was broken: the fuzzer reports it as a crash."""


# -- scenarios: a connection driven to some state, and how it answers --------


def _server_greeted(conn: ServerConnection) -> None:
    conn.receive_data(encode_event(ev.Hello(PROTOCOL_VERSION, 1_048_576, "fuzz")))
    _expect(conn, ev.Hello)
    conn.send(conn.hello())


def _server_active(conn: ServerConnection) -> None:
    _server_greeted(conn)
    conn.receive_data(encode_event(ev.Login("alice", "secret")))
    _expect(conn, ev.Login)
    conn.send(ev.LoginAccepted("alice", False, False, 0))


def _server_uploading(conn: ServerConnection) -> None:
    _server_active(conn)
    conn.receive_data(encode_event(ev.FileOffer(UPLOAD_ID, "a.txt", UPLOAD_SIZE, SHA)))
    _expect(conn, ev.FileOffer)
    conn.send(ev.FileAccepted(UPLOAD_ID))


def _client_greeted(conn: ClientConnection) -> None:
    conn.send(conn.hello("fuzz"))


def _client_authenticating(conn: ClientConnection) -> None:
    _client_greeted(conn)
    conn.receive_data(encode_event(ev.Hello(PROTOCOL_VERSION, 1_048_576, "srv")))
    _expect(conn, ev.Hello)
    conn.send(ev.Login("alice", "secret"))


def _client_active(conn: ClientConnection) -> None:
    _client_authenticating(conn)
    conn.receive_data(encode_event(ev.LoginAccepted("alice", True, False, 0)))
    _expect(conn, ev.LoginAccepted)


def _client_transferring(conn: ClientConnection) -> None:
    _client_active(conn)
    conn.send(ev.FileOffer(UPLOAD_ID, "a.txt", UPLOAD_SIZE, SHA))
    conn.send(ev.FetchFile(FETCH_ID, 0))


def _expect(conn: Connection, kind: type[ev.Event]) -> None:
    event = conn.next_event()
    if not isinstance(event, kind):
        raise HarnessBug(f"scenario set-up expected {kind.__name__}, got {event!r}")


SCENARIOS: list[tuple[str, type[Connection], Callable[..., None]]] = [
    ("server-fresh", ServerConnection, lambda conn: None),
    ("server-greeted", ServerConnection, _server_greeted),
    ("server-active", ServerConnection, _server_active),
    ("server-uploading", ServerConnection, _server_uploading),
    ("client-fresh", ClientConnection, _client_greeted),
    ("client-authenticating", ClientConnection, _client_authenticating),
    ("client-active", ClientConnection, _client_active),
    ("client-transferring", ClientConnection, _client_transferring),
]
#: Byte 0 values at or above this select the codec target instead.
CODEC_MODE = len(SCENARIOS)


def _answer(conn: Connection, event: ev.Event, accept_login: bool) -> None:
    """What a well-behaved local side sends back, so the peer's bytes can
    reach deeper states. A ``LocalProtocolError`` here is a bug of the core
    (its state disagrees with what it just accepted), so it is not caught."""
    if isinstance(conn, ServerConnection):
        if isinstance(event, ev.Hello):
            conn.send(conn.hello())
        elif isinstance(event, ev.Login | ev.TransientLogin):
            if username_problem(event.username) is not None:
                # The wire only length-checks a login name; the server judges it.
                conn.send(ev.LoginRejected("invalid-name", "no"))
            elif accept_login:
                conn.send(ev.LoginAccepted(event.username, True, False, 0))
            else:
                conn.send(ev.LoginRejected("bad-password", "no"))
        elif isinstance(event, ev.FileOffer):
            conn.send(ev.FileAccepted(event.upload_id))
        elif isinstance(event, ev.FetchFile):
            conn.send(ev.FetchRejected(event.file_id, "not-found"))
        elif isinstance(event, ev.Ping):
            conn.send(ev.Pong(event.nonce))
    else:
        greeted = isinstance(event, ev.Hello) and conn.state is State.LOGIN
        if greeted or isinstance(event, ev.LoginRejected):
            conn.send(ev.Login("alice", "secret"))
        elif isinstance(event, ev.FileAccepted):
            conn.send(ev.FileChunk(event.upload_id, 0, b"x" * UPLOAD_SIZE))
            conn.send(ev.FileEnd(event.upload_id))
        elif isinstance(event, ev.Ping):
            conn.send(ev.Pong(event.nonce))


# -- the targets ---------------------------------------------------------------


def run_one(data: bytes) -> None:
    """The fuzz target: never raises unless the core broke a rule."""
    if len(data) < 2:
        return
    if data[0] >= CODEC_MODE:
        check_codec(data[1], data[2:])
        return
    _name, conn_class, setup = SCENARIOS[data[0]]
    conn = conn_class()
    setup(conn)
    flags = data[1]
    stream = data[2:]
    bound = conn.limits.max_frame_size + HEADER_SIZE + MAX_READ_SIZE
    try:
        for piece in _reads(stream, flags):
            conn.receive_data(piece)
            _drain(conn, bound, accept_login=bool(flags & 0x40))
        if flags & 0x80:
            conn.receive_data(b"")
            _drain(conn, bound, accept_login=True)
            closed = conn.next_event()
            if not isinstance(closed, ev.ConnectionClosed):
                raise HarnessBug(f"after the peer closed, next_event gave {closed!r}")
    except RemoteProtocolError as exc:
        _check_sticky(conn, exc)


def _reads(stream: bytes, flags: int) -> Iterator[bytes]:
    """Cut the stream into reads: all at once, byte by byte, or random sizes."""
    how = flags & 0x03
    if how == 0:
        if stream:
            yield stream
        return
    if how == 1:
        yield from (stream[i : i + 1] for i in range(len(stream)))
        return
    rng = random.Random(flags)
    pos = 0
    while pos < len(stream):
        size = rng.randint(1, 64 if how == 2 else 4096)
        yield stream[pos : pos + size]
        pos += size


def _drain(conn: Connection, bound: int, accept_login: bool) -> None:
    while True:
        if conn.trailing_data > bound:
            raise HarnessBug(f"receive buffer holds {conn.trailing_data} bytes (bound {bound})")
        event = conn.next_event()
        if event is NEED_DATA:
            _check_pending_frame(conn)
            return
        if not isinstance(event, ev.Event):
            raise HarnessBug(f"next_event returned {event!r}")
        if conn.open_uploads > MAX_OPEN_UPLOADS or conn.open_fetches > MAX_OPEN_FETCHES:
            raise HarnessBug("more transfers open than the limits allow")
        if isinstance(event, ev.ConnectionClosed):
            again = conn.next_event()
            if again != event:
                raise HarnessBug(f"ConnectionClosed was followed by {again!r}")
            return
        _check_roundtrip(event)
        _answer(conn, event, accept_login)


def _check_pending_frame(conn: Connection) -> None:
    """Waiting for more bytes is only allowed for a frame that may be that
    long: a header announcing too much must be refused before its body."""
    buffer = conn._buffer
    pending = len(buffer)
    if pending < HEADER_SIZE:
        return
    type_code, length = HEADER.unpack_from(buffer._data, buffer._start)
    layout = LAYOUT_BY_CODE.get(type_code)
    if layout is None:
        raise HarnessBug(f"waiting for the body of unknown type 0x{type_code:02x}")
    limit = layout.max_payload_for(conn.limits.max_frame_size)
    if length > limit or pending >= HEADER_SIZE + length:
        raise HarnessBug(f"buffered {pending} bytes of a {length}-byte frame (limit {limit})")


def _check_roundtrip(event: ev.Event) -> None:
    frame = encode_event(event)
    layout = next(layout for layout in LAYOUTS if layout.event_class is type(event))
    again = decode_payload(layout, frame[HEADER_SIZE:])
    if again != event:
        raise HarnessBug(f"{event!r} re-encoded decodes as {again!r}")


def _check_sticky(conn: Connection, exc: RemoteProtocolError) -> None:
    if not exc.code or not isinstance(exc.code, str):
        raise HarnessBug(f"RemoteProtocolError without a code: {exc!r}")
    try:
        conn.next_event()
    except RemoteProtocolError as again:
        if again is not exc:
            raise HarnessBug(f"a second, different error after {exc!r}: {again!r}") from None
    else:
        raise HarnessBug(f"next_event worked again after {exc!r}")
    if conn.state not in (State.ERROR, State.CLOSED):
        raise HarnessBug(f"state {conn.state} after a protocol error")


def check_codec(selector: int, payload: bytes) -> None:
    """The generated decoder and the reference decoder must agree; any exception
    but the generated path's own signals and ``RemoteProtocolError`` is a crash."""
    layout: Layout = LAYOUTS[selector % len(LAYOUTS)]
    try:
        fast: ev.Event | None = DECODERS[layout](payload)
    except FAST_PATH_SIGNALS:
        fast = None
    try:
        reference: ev.Event | None = reference_codec.decode(layout, payload)
    except RemoteProtocolError:
        reference = None
    if fast != reference:
        raise HarnessBug(f"{layout.event_class.__name__}: fast {fast!r} != reference {reference!r}")
    try:
        decode_payload(layout, payload)
    except RemoteProtocolError:
        if reference is not None:
            raise HarnessBug("decode refused a payload the reference accepts") from None
