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

Time, as in aioquic, is the adapter's and the timers are the connection's:
after ``start_heartbeat`` the adapter passes ``now`` to ``receive_data``,
sleeps until ``get_timer()`` and calls ``handle_timer(now)``, which hands
back a Ping to send or raises ``RemoteProtocolError(timeout)``. What counts
as a sign of life (a whole frame) is decided here, once, for every adapter.
"""

from __future__ import annotations

from typing import Final, NamedTuple, final

from . import events as ev
from ._codec import decode_payload, encode_event
from .buffer import ReceiveBuffer
from .errors import ErrorCode, LocalProtocolError, RemoteProtocolError
from .heartbeat import Heartbeat, HeartbeatAction
from .limits import (
    DEFAULT_CHUNK_SIZE,
    HEADER_SIZE,
    MIN_FRAME_SIZE,
    PROTOCOL_VERSION,
    ROOMS_VERSION,
    UPLOAD_TICKET_VERSION,
    Limits,
)
from .state import (
    STATE_NEUTRAL_BROADCASTS,
    TRANSITIONS,
    ConversationState,
    Role,
    State,
    Violation,
)
from .targets import is_room_target

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

    @property
    def broadcast(self) -> bytes | None:
        """``data`` when a server may write it, without ``send``, to any
        connection whose ``accepts_broadcasts`` is true; None when it must go
        through ``send``. The rule: the event changes no state on either side
        (``STATE_NEUTRAL_BROADCASTS``) and its frame fits the smallest frame
        limit a peer may announce. Then the bytes are those ``send`` would
        return, and skipping ``send`` leaves the connection as ``send`` would:
        a fan-out to thousands costs one append per recipient."""
        data = self.data
        if type(self.event) in STATE_NEUTRAL_BROADCASTS and len(data) <= _ALWAYS_FITS:
            return data
        return None

    @property
    def for_rooms(self) -> bool:
        """Whether the event exists only from version 4 on (a ``Membership``,
        or a message or file whose recipient is a ``#room``): its
        ``broadcast`` bytes may go only where ``speaks_rooms`` holds too."""
        event = self.event
        return type(event) is ev.Membership or is_room_target(getattr(event, "recipient", None))


def prepare(event: ev.Event) -> PreparedEvent:
    """Encode ``event`` once; pass the result to ``send`` of many connections."""
    return PreparedEvent(event, encode_event(event))


_DEFAULT_LIMITS = Limits()
_FINAL: Final = frozenset({State.CLOSED, State.ERROR})
_ALWAYS_FITS: Final = MIN_FRAME_SIZE + HEADER_SIZE


class Connection:
    """One side of one conversation. Use ``ClientConnection`` or
    ``ServerConnection``."""

    __slots__ = (
        "_buffer",
        "_closed_event",
        "_conversation",
        "_error",
        "_heartbeat",
        "_received_at",
        "limits",
    )

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
        self._heartbeat: Heartbeat | None = None
        self._received_at = 0.0

    # -- state ---------------------------------------------------------------

    @property
    def speaks_rooms(self) -> bool:
        """Whether the agreed version has rooms (``ROOMS_VERSION``): only
        then may a room message, a ``Membership`` or a room request cross
        this connection (``PreparedEvent.for_rooms``)."""
        return self._conversation.version >= ROOMS_VERSION

    @property
    def speaks_upload_tickets(self) -> bool:
        """Whether the agreed version has ``UploadTicket``
        (``UPLOAD_TICKET_VERSION``): a server that takes an upload's bytes
        over HTTP (the browser client's WebSocket, docs/protocol.md 1.1)
        sends one after its ``FileAccepted`` only then, and asks for its
        token."""
        return self._conversation.version >= UPLOAD_TICKET_VERSION

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
    def transient(self) -> bool:
        """The login sent is a ``TransientLogin``: once accepted, both sides
        are in ``TRANSIENT`` (chat and uploads, no broadcasts), not ``ACTIVE``."""
        return self._conversation.transient

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

    def upload_progress(self, upload_id: int) -> tuple[int, int] | None:
        """(bytes sent so far, size) of the accepted upload ``upload_id`` while
        its chunks may still come (docs/protocol.md 7.6); else None. A server
        that takes an upload's bytes from elsewhere (the browser client's HTTP
        upload) knows from it where they must continue."""
        return self._conversation.upload_progress(upload_id)

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
            data = encode_event(event)
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

    def receive_data(self, data: bytes, now: float | None = None) -> None:
        """Hand over bytes read from the peer; ``b""`` means it closed.

        Once the heartbeat runs, pass ``now``: a frame completed by these
        bytes is a sign of life as of ``now``."""
        if now is not None:
            self._received_at = now
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
            event = decode_payload(layout, payload)
            self._conversation.process(self.their_role, event)
            if self._heartbeat is not None:
                # A whole frame, not any bytes: a peer trickling one byte at
                # a time must still time out (docs/protocol.md 7.4).
                self._heartbeat.activity(self._received_at)
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

    # -- timers (as aioquic: the connection owns them, the adapter the clock) ----

    def start_heartbeat(self, interval: float, timeout: float, now: float) -> None:
        """Ping the peer after ``interval`` seconds without a whole frame from
        it, and give it up after ``timeout``; from then on pass ``now`` to
        ``receive_data`` and call ``handle_timer`` at ``get_timer()``."""
        self._heartbeat = Heartbeat(interval, timeout, now)
        self._received_at = now

    def get_timer(self) -> float | None:
        """When ``handle_timer`` next has something to do; None when nothing
        is timed (no heartbeat, or the conversation is over)."""
        heartbeat = self._heartbeat
        if heartbeat is None or self._error is not None or self._over():
            return None
        return heartbeat.deadline()

    def handle_timer(self, now: float) -> ev.Ping | None:
        """The Ping to send now, if one is due (send it with ``send``).

        Raises ``RemoteProtocolError`` with code ``timeout`` once the peer
        has been silent for the heartbeat timeout: the connection is then in
        ERROR, as after any protocol error, and the adapter sends ``Error``
        and closes as it does for those."""
        heartbeat = self._heartbeat
        if heartbeat is None or self._error is not None or self._over():
            return None
        action = heartbeat.poll(now)
        if action is HeartbeatAction.TIMED_OUT:
            raise self._fail(
                RemoteProtocolError("no answer to heartbeat", ErrorCode.TIMEOUT)
            )
        if action is HeartbeatAction.SEND_PING and self._may_send(ev.Ping):
            return ev.Ping(heartbeat.next_nonce())
        return None

    def _over(self) -> bool:
        """Nothing more can pass: we said goodbye or the peer's stream ended."""
        return self.our_state in _FINAL or self.their_state in _FINAL

    def _may_send(self, kind: type[ev.Event]) -> bool:
        return kind in TRANSITIONS.get((self.our_role, self.our_state), {})

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

    @property
    def accepts_broadcasts(self) -> bool:
        """Whether a ``PreparedEvent.broadcast`` may be written to this
        connection without ``send``: while the server's side is ACTIVE (the
        client logged in and its participant list is complete; the server has
        said no Goodbye or Error and no protocol error happened); never after
        a ``TransientLogin`` (TRANSIENT is not ACTIVE: such a connection gets
        only what answers its own requests, through ``send``). It turns
        false with the state change itself, so a fan-out asks here instead of
        tracking it."""
        return self._conversation.state_of(Role.SERVER) is State.ACTIVE


__all__ = [
    "NEED_DATA",
    "ClientConnection",
    "Connection",
    "PreparedEvent",
    "ServerConnection",
    "prepare",
]
