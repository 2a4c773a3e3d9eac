"""The sans-IO connection objects: bytes in, events out; events in, bytes out.

    conn = ClientConnection()
    sock.sendall(conn.send(Hello(...)))
    conn.receive_data(sock.recv(65536))      # b"" when the peer closed
    while (event := conn.next_event()) is not NEED_DATA: ...

No I/O, no clock, no threads: the caller owns all three.

Theory of operation. A ``Connection`` is one side of one conversation and
holds three things: the receive buffer (``buffer.py``: whole frames only,
the frame limit checked on the 5-byte header before any body is kept), the
state of both roles (``state.py``), and nothing else of the peer's. Sending
is ``send(event)``: the codec checks every field and value first (an invalid
one raises ``LocalProtocolError`` and changes nothing: nothing was sent),
then the state machine moves the sender's state (an event the state forbids
raises too, and the connection is in ERROR for good, because both sides'
machines no longer agree on what was said). Receiving is ``receive_data``
then ``next_event`` until ``NEED_DATA``: each whole frame is decoded and
moves the peer's state; anything wrong raises ``RemoteProtocolError`` with
the code the adapter puts in its ``Error`` frame, and raises it again on
every later call. ``ConnectionClosed`` comes once the peer's stream ended,
``clean`` when it said Goodbye or Error first. Both peers run the same
machines, so each knows at every point what the other may send next.
"""

from __future__ import annotations

from typing import Final, NamedTuple, final

from . import events as ev
from .buffer import ReceiveBuffer
from .errors import ErrorCode, LocalProtocolError, RemoteProtocolError
from .limits import (
    DEFAULT_CHUNK_SIZE,
    HEADER_SIZE,
    MAX_TEXT_BYTES,
    MIN_FRAME_SIZE,
    PROTOCOL_VERSION,
    Limits,
)
from .state import ConversationState, Role, State, Violation
from .wire import LAYOUT_BY_CLASS

#: Room for one read of this size on top of a whole frame; adapters feed at
#: most this much per ``receive_data`` call once they have drained events.
MAX_READ_SIZE: Final = 1_048_576


@final
class _NeedData:
    """Sentinel: no whole event is buffered yet."""

    _instance: _NeedData | None = None

    def __new__(cls) -> _NeedData:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NEED_DATA"

    def __reduce__(self) -> str:
        return "NEED_DATA"


NEED_DATA: Final = _NeedData()


class PreparedEvent(NamedTuple):
    """An event encoded once, to be sent on many connections (fan-out).

    A named tuple rather than an attrs class: a server makes one per message,
    and this is the cheapest immutable pair Python has."""

    event: ev.Event
    data: bytes


def prepare(event: ev.Event) -> PreparedEvent:
    """Encode ``event`` once; pass the result to ``send`` of many connections."""
    layout = LAYOUT_BY_CLASS.get(type(event))
    if layout is None:
        raise LocalProtocolError(f"{type(event).__name__} is not sent on the wire")
    return PreparedEvent(event, layout.encode(event, MAX_TEXT_BYTES))


_DEFAULT_LIMITS = Limits()
_ALWAYS_FITS: Final = MIN_FRAME_SIZE + HEADER_SIZE


class Connection:
    """One side of one conversation. Use ``ClientConnection`` or
    ``ServerConnection``."""

    __slots__ = ("_buffer", "_closed_event", "_conversation", "_error", "_max_text", "limits")

    our_role: Role
    their_role: Role

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or _DEFAULT_LIMITS
        self._conversation = ConversationState()
        self._buffer = ReceiveBuffer(
            self.limits.max_frame_size,
            max_buffered=self.limits.max_frame_size + HEADER_SIZE + MAX_READ_SIZE,
        )
        self._closed_event: ev.ConnectionClosed | None = None
        self._error: RemoteProtocolError | None = None
        self._max_text = MAX_TEXT_BYTES

    # -- state ---------------------------------------------------------------

    @property
    def our_state(self) -> State:
        return self._conversation.state_of(self.our_role)

    @property
    def their_state(self) -> State:
        return self._conversation.state_of(self.their_role)

    @property
    def state(self) -> State:
        """Our own state: ``ACTIVE`` once logged in, ``CLOSED`` after a goodbye."""
        return self.our_state

    @property
    def username(self) -> str | None:
        """The logged-in user, once ``LoginAccepted`` has passed."""
        return self._conversation.username

    @property
    def version(self) -> int:
        """The negotiated protocol version (0 until the server's Hello)."""
        return self._conversation.version

    @property
    def peer_max_frame_size(self) -> int:
        return self._conversation.max_frame_size_of(self.their_role)

    @property
    def chunk_size(self) -> int:
        """The largest file chunk that fits the peer's announced frame size."""
        peer = self.peer_max_frame_size or self.limits.max_frame_size
        return min(DEFAULT_CHUNK_SIZE, peer - 64)

    @property
    def open_uploads(self) -> int:
        return self._conversation.open_uploads

    @property
    def open_fetches(self) -> int:
        return self._conversation.open_fetches

    def hello(self, software: str = "chatproto") -> ev.Hello:
        """The Hello this side should send, with its limits."""
        version = PROTOCOL_VERSION
        if self.our_role is Role.SERVER and self._conversation.client_version:
            # Before the client's Hello there is nothing to answer: ``send``
            # refuses this Hello for its place, not for a version 0.
            version = min(version, self._conversation.client_version)
        return ev.Hello(version, self.limits.max_frame_size, software)

    # -- sending ---------------------------------------------------------------

    def send(self, event: ev.Event | PreparedEvent) -> bytes:
        """The bytes that carry ``event``; raises ``LocalProtocolError``.

        An event with an invalid field is refused and leaves the connection
        as it was (nothing was sent); an event the state forbids puts the
        connection into the permanent ``ERROR`` state.
        """
        if isinstance(event, PreparedEvent):
            data = event.data
            event = event.event
        else:
            layout = LAYOUT_BY_CLASS.get(type(event))
            if layout is None:
                raise LocalProtocolError(f"{type(event).__name__} is not sent on the wire")
            try:
                data = layout.fast_encode(event, MAX_TEXT_BYTES)
            except Exception:
                # Slow path: the reference encoder decides, with a precise error.
                data = layout.reference_encode(event, MAX_TEXT_BYTES)
        # Every peer accepts at least MIN_FRAME_SIZE, so only big frames
        # need the peer's announced limit.
        if len(data) > _ALWAYS_FITS:
            self._check_peer_limit(event, data)
        try:
            self._conversation.process(self.our_role, event)
        except Violation as exc:
            self._conversation.fail()
            raise LocalProtocolError(str(exc), exc.code) from None
        return data

    def _check_peer_limit(self, event: ev.Event, data: bytes) -> None:
        peer_limit = self.peer_max_frame_size
        if peer_limit and len(data) - HEADER_SIZE > peer_limit:
            raise LocalProtocolError(
                f"{type(event).__name__} of {len(data)} bytes exceeds the peer's frame "
                f"limit of {peer_limit}",
                ErrorCode.FRAME_TOO_LARGE,
            )

    # -- receiving -------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Hand over bytes read from the peer; ``b""`` means it closed."""
        self._buffer.feed(data)

    @property
    def trailing_data(self) -> int:
        """Bytes received but not yet parsed into events."""
        return len(self._buffer)

    def next_event(self) -> ev.Event | _NeedData:
        """The next event from the peer, or ``NEED_DATA``.

        Raises ``RemoteProtocolError`` (with ``.code`` for the Error frame)
        when the peer broke the protocol; it is raised again on every later
        call.
        """
        if self._error is not None:
            raise self._error
        try:
            frame = self._buffer.next_frame()
            if frame is None:
                return self._end_of_data()
            layout, payload = frame
            try:
                event = layout.fast_decode(payload, self._max_text)
            except Exception:
                # Slow path: the reference decoder raises the precise error.
                event = layout.reference_decode(payload, self._max_text)
            self._conversation.process(self.their_role, event)
        except Violation as exc:
            raise self._fail(RemoteProtocolError(str(exc), exc.code)) from None
        except RemoteProtocolError as exc:
            raise self._fail(exc) from None
        return event

    def _end_of_data(self) -> ev.Event | _NeedData:
        if not self._buffer.closed:
            return NEED_DATA
        if self._buffer.truncated():
            raise RemoteProtocolError(
                f"the connection closed inside a frame ({len(self._buffer)} bytes left)",
                ErrorCode.TRUNCATED,
            )
        if self._closed_event is None:
            self._closed_event = ev.ConnectionClosed(clean=self.their_state is State.CLOSED)
            if self.their_state is not State.ERROR:
                self._conversation.set_state(self.their_role, State.CLOSED)
        return self._closed_event

    def _fail(self, error: RemoteProtocolError) -> RemoteProtocolError:
        self._error = error
        self._conversation.fail()
        return error


class ClientConnection(Connection):
    __slots__ = ()
    our_role = Role.CLIENT
    their_role = Role.SERVER


class ServerConnection(Connection):
    __slots__ = ()
    our_role = Role.SERVER
    their_role = Role.CLIENT


__all__ = [
    "NEED_DATA",
    "ClientConnection",
    "Connection",
    "PreparedEvent",
    "ServerConnection",
    "prepare",
]
