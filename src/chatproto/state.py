"""The conversation's state machines, as one table.

Theory of operation. Both peers run the same two machines, one per role
(client, server), so each side always knows what the other may send next.
A role's state moves only with what that role sends, with two exceptions
that tie the machines together: the server speaks only after the client's
``Hello``, and the server's login verdict moves the *client*
(``LoginAccepted`` makes it ACTIVE, or TRANSIENT after a ``TransientLogin``;
``LoginRejected`` sends it back to LOGIN). ``TRANSITIONS`` says which events
each role may send in each state and where they lead; ``Goodbye`` and
``Error`` are added to every open state below the table. Rules that need
more than the state (a verdict needs a pending Login; a TransientLogin needs
the server's Hello of version 3; chunk offsets follow on; at most so many
transfers open) are the ``_CHECKS`` beside the table. Rules about values
alone (a Hello's frame limit, a file's size) are not here: the codec checks
them (``rules.py``), before any state moves, so an invalid value never
breaks a connection that did not send it.

    client: HELLO --Hello--> LOGIN --Login/TransientLogin--> AUTHENTICATING
            AUTHENTICATING --(LoginAccepted)--> ACTIVE, or TRANSIENT after a TransientLogin
            AUTHENTICATING --(LoginRejected)--> LOGIN
    server: HELLO --Hello--> READY --LoginAccepted--> ACTIVE (TRANSIENT)
                                   `--LoginAccepted (list incomplete)--> LISTING
            LISTING --ParticipantList (the last page)--> ACTIVE (TRANSIENT)
    either: any open state --Goodbye/Error--> CLOSED;  a protocol error --> ERROR

TRANSIENT is ACTIVE for one errand: the client may chat and upload, and the
server may send only what answers it (``_TRANSIENT_CHECKS``: a ChatMessage
must be the client's own, a FileAvailable must close one of its uploads), so
no broadcast, presence or replay can reach a transient connection.

CLOSED and ERROR are both final: CLOSED after a role said Goodbye or Error
(or its stream ended cleanly), ERROR for both roles once a protocol error
was detected on the connection, whoever caused it.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from . import events as ev
from .limits import MAX_FILE_SIZE, PROTOCOL_VERSION, TRANSIENT_LOGIN_VERSION
from .request_state import _NO_REQUESTS, RequestChecks
from .transfer_state import _NO_FETCHES, _NO_UPLOADS, _Upload
from .transfer_state import Violation as Violation


class Role(Enum):
    CLIENT = "client"
    SERVER = "server"

    # Members are singletons; identity hashing is correct and, unlike
    # Enum's name hashing, costs nothing on the per-message path.
    __hash__ = object.__hash__


class State(Enum):
    HELLO = "hello"  # must send Hello first
    LOGIN = "login"  # client: may log in
    AUTHENTICATING = "authenticating"  # client: waits for the verdict
    READY = "ready"  # server: greeted, no one logged in yet
    LISTING = "listing"  # server: sends the rest of the participant list
    ACTIVE = "active"  # logged in: chat and files
    TRANSIENT = "transient"  # logged in for one errand: chat and uploads, no broadcasts
    CLOSED = "closed"  # said Goodbye or Error: sends nothing more
    ERROR = "error"  # a protocol error happened: the connection is dead

    __hash__ = object.__hash__


C, S = Role.CLIENT, Role.SERVER
_KEEPALIVE = (ev.Ping, ev.Pong)
#: Room requests and searches (version 4: request_state.py).
_REQUESTS = (
    ev.CreateRoom, ev.JoinRoom, ev.LeaveRoom, ev.InviteToRoom, ev.ListRooms, ev.SearchHistory,
)
#: Their answers, which a transient connection gets too (they answer it).
_ANSWERS = (ev.RequestDone, ev.RequestRejected, ev.RoomList, ev.SearchHit, ev.SearchDone)

#: (role, state) -> {event class the role may send: the role's next state}
TRANSITIONS: dict[tuple[Role, State], dict[type[ev.Event], State]] = {
    (C, State.HELLO): {ev.Hello: State.LOGIN},
    (C, State.LOGIN): {
        ev.Login: State.AUTHENTICATING,
        ev.TransientLogin: State.AUTHENTICATING,
        **dict.fromkeys(_KEEPALIVE, State.LOGIN),
    },
    (C, State.AUTHENTICATING): dict.fromkeys(_KEEPALIVE, State.AUTHENTICATING),
    (C, State.ACTIVE): dict.fromkeys(
        (
            ev.SendChat, ev.FileOffer, ev.FileChunk, ev.FileEnd, ev.FetchFile, *_REQUESTS,
            *_KEEPALIVE,
        ),
        State.ACTIVE,
    ),
    # A transient connection sends; it fetches nothing (it is told of no file).
    (C, State.TRANSIENT): dict.fromkeys(
        (ev.SendChat, ev.FileOffer, ev.FileChunk, ev.FileEnd, *_REQUESTS, *_KEEPALIVE),
        State.TRANSIENT,
    ),
    (S, State.HELLO): {ev.Hello: State.READY},
    (S, State.READY): {
        # LISTING while pages of the list are due; TRANSIENT after a TransientLogin.
        ev.LoginAccepted: State.ACTIVE,
        ev.LoginRejected: State.READY,
        **dict.fromkeys(_KEEPALIVE, State.READY),
    },
    # Nothing may come between LoginAccepted and the last page of its list.
    (S, State.LISTING): {ev.ParticipantList: State.ACTIVE},  # LISTING until the last
    (S, State.ACTIVE): dict.fromkeys(
        (
            ev.ChatMessage,
            ev.ChatRejected,
            ev.Presence,
            ev.FileAccepted,
            ev.FileRejected,
            ev.FileChunk,
            ev.FileEnd,
            ev.FileAvailable,
            ev.FetchRejected,
            ev.UploadTicket,
            *_ANSWERS,
            ev.Membership,
            *_KEEPALIVE,
        ),
        State.ACTIVE,
    ),
    # Only the answers to the client's own requests (checked: _TRANSIENT_CHECKS).
    (S, State.TRANSIENT): dict.fromkeys(
        (
            ev.ChatMessage,
            ev.ChatRejected,
            ev.FileAccepted,
            ev.FileRejected,
            ev.FileAvailable,
            ev.UploadTicket,
            *_ANSWERS,
            *_KEEPALIVE,
        ),
        State.TRANSIENT,
    ),
}
#: Events a server sends in ACTIVE that change no state at all (no transfer,
#: no transition). ``PreparedEvent.broadcast`` gives their bytes (when they
#: fit every peer) for writing to any connection whose ``accepts_broadcasts``
#: is true without calling ``send``: a fan-out to thousands then costs one
#: append per recipient. ``tests/proto`` checks this claim against the table.
#: (A ``Membership``, and a ChatMessage to a ``#room``, only on version 4
#: connections: the server sends them only to members, whose clients speak it.)
STATE_NEUTRAL_BROADCASTS: frozenset[type[ev.Event]] = frozenset(
    {ev.ChatMessage, ev.Presence, ev.Membership}
)

#: Goodbye ends the sender's side from any state but CLOSED and ERROR;
#: Error from any state but CLOSED (it is how a broken connection says why).
_GOODBYE_FROM = frozenset(s for s in State if s not in (State.CLOSED, State.ERROR))
_ERROR_FROM = frozenset(s for s in State if s is not State.CLOSED)


class _Side:
    """One role's part of the conversation."""

    __slots__ = ("allowed", "max_frame_size", "state")

    def __init__(self, role: Role) -> None:
        self.state = State.HELLO
        # What the role may send now: the table row of its current state.
        self.allowed = _ALLOWED[role, State.HELLO]
        self.max_frame_size = 0


#: A check may return the state the role moves to instead of the table's.
_Check = Callable[["ConversationState", Role, ev.Event], "State | None"]


class ConversationState(RequestChecks):
    """Both roles' states plus the open transfers, as both peers track them."""

    # Slotted objects rather than per-role dicts: a server holds one of these
    # per connection, and thousands of idle connections add up.
    # (``_uploads``, ``_fetches`` and ``username`` are TransferChecks' slots,
    # ``_requests`` RequestChecks'.)
    __slots__ = (
        "_client",
        "_server",
        "client_version",
        "participants_due",
        "transient",
        "version",
    )

    def __init__(self) -> None:
        self._client = _Side(C)
        self._server = _Side(S)
        self.client_version = 0
        self.version = 0
        self.username: str | None = None
        #: Participants still to come in ParticipantList pages (server LISTING).
        self.participants_due = 0
        #: The pending or accepted login is a TransientLogin.
        self.transient = False
        # Most connections never transfer a file: they share one read-only
        # empty dict until their first transfer (insertions below replace it).
        self._uploads: dict[int, _Upload] = _NO_UPLOADS
        self._fetches: dict[int, int] = _NO_FETCHES  # file id -> next offset
        self._requests: dict[int, int] = _NO_REQUESTS

    def _side(self, role: Role) -> _Side:
        return self._client if role is C else self._server

    def state_of(self, role: Role) -> State:
        return self._side(role).state

    def max_frame_size_of(self, role: Role) -> int:
        """The frame limit ``role`` announced in its Hello (0 before)."""
        return self._side(role).max_frame_size

    def set_state(self, role: Role, state: State) -> None:
        side = self._side(role)
        side.state = state
        side.allowed = _ALLOWED[role, state]

    def fail(self) -> None:
        for role in (C, S):
            if self.state_of(role) is not State.CLOSED:
                self.set_state(role, State.ERROR)

    def process(self, role: Role, event: ev.Event) -> None:
        """Apply ``event`` sent by ``role``, or raise ``Violation``."""
        event_type = type(event)
        side = self._client if role is C else self._server  # _side, inlined: every frame
        next_state = side.allowed.get(event_type)
        if next_state is None:
            raise Violation(
                f"{role.value} may not send {event_type.__name__} in state {side.state.value}"
            )
        checks = _TRANSIENT_CHECKS if side.state is State.TRANSIENT else _CHECKS
        check = checks.get(event_type)
        if check is not None:
            next_state = check(self, role, event) or next_state
        if next_state is not side.state:
            self.set_state(role, next_state)

    # -- rules beside the table --------------------------------------------

    def _hello(self, role: Role, event: ev.Event) -> None:
        assert isinstance(event, ev.Hello)
        if role is C:
            self.client_version = event.version
        else:
            if self._client.state is State.HELLO:
                raise Violation("the server must wait for the client's Hello")
            if event.version > self.client_version or event.version > PROTOCOL_VERSION:
                raise Violation(
                    f"version {event.version} was not offered", "unsupported-version"
                )
            self.version = event.version
        self._side(role).max_frame_size = event.max_frame_size

    def _transient_login(self, role: Role, event: ev.Event) -> None:
        # The client must know the server speaks version 3: the server's
        # Hello comes first, so a server that has not sent it yet knows the
        # client guessed.
        if self._server.state is State.HELLO:
            raise Violation("a TransientLogin must wait for the server's Hello")
        if self.version < TRANSIENT_LOGIN_VERSION:
            raise Violation(
                f"TransientLogin needs protocol version {TRANSIENT_LOGIN_VERSION}; "
                f"version {self.version} was agreed"
            )
        self.transient = True

    def _logged_in(self) -> State | None:
        """The state a verdict or the last page leads to instead of the table's ACTIVE."""
        return State.TRANSIENT if self.transient else None

    def _verdict(self, role: Role, event: ev.Event) -> State | None:
        if self._client.state is not State.AUTHENTICATING:
            raise Violation(f"{type(event).__name__} without a pending Login")
        if isinstance(event, ev.LoginAccepted):
            if self.transient and event.resume_token:
                # Tokens are few per account and good for one login each: a
                # script's login must not take a real client's.
                raise Violation("a transient login is issued no resume token", "invalid-field")
            self.set_state(C, State.TRANSIENT if self.transient else State.ACTIVE)
            self.username = event.username
            self.participants_due = event.participant_count - len(event.participants)
            if self.participants_due:
                return State.LISTING
            return self._logged_in()
        self.transient = False  # the next Login may be of either kind
        self.set_state(C, State.LOGIN)
        return None

    def _participant_page(self, role: Role, event: ev.Event) -> State | None:
        assert isinstance(event, ev.ParticipantList)
        due = self.participants_due - len(event.participants)
        if due < 0:
            raise Violation(
                f"{len(event.participants)} participants, only {self.participants_due} were due",
                "invalid-field",
            )
        self.participants_due = due
        return self._logged_in() if due == 0 else State.LISTING

    def _file_chunk(self, role: Role, event: ev.Event) -> None:
        assert isinstance(event, ev.FileChunk)
        if not event.data:
            raise Violation("empty file chunk", "invalid-field")
        if role is C:
            upload = self._upload(event.transfer_id)
            if not upload.accepted or upload.ended:
                raise Violation(f"upload {event.transfer_id} is not streaming")
            expected, end = upload.next_offset, upload.size
        else:
            expected = self._fetches.get(event.transfer_id, -1)
            if expected < 0:
                raise Violation(f"no fetch of file {event.transfer_id} is open")
            end = MAX_FILE_SIZE
        if event.offset != expected:
            raise Violation(f"chunk at offset {event.offset}, expected {expected}", "invalid-field")
        if expected + len(event.data) > end:
            raise Violation("chunk runs past the announced size", "invalid-field")
        if role is C:
            upload.next_offset += len(event.data)
        else:
            self._fetches[event.transfer_id] = expected + len(event.data)

    def _file_end(self, role: Role, event: ev.Event) -> None:
        assert isinstance(event, ev.FileEnd)
        if role is S:
            if self._fetches.pop(event.transfer_id, None) is None:
                raise Violation(f"no fetch of file {event.transfer_id} is open")
            return
        upload = self._upload(event.transfer_id)
        if not upload.accepted or upload.ended or upload.next_offset != upload.size:
            raise Violation(
                f"upload {event.transfer_id} ended at {upload.next_offset} of {upload.size} bytes"
            )
        upload.ended = True

def _with_room_recipient(check: _Check) -> _Check:
    """``check``, after the version rule of a ``#room`` recipient (request_state.py)."""

    def checked(conv: ConversationState, role: Role, event: ev.Event) -> State | None:
        conv._room_recipient(role, event)
        return check(conv, role, event)

    checked.__name__ = check.__name__
    return checked


def _allowed(role: Role, state: State) -> dict[type[ev.Event], State]:
    allowed = dict(TRANSITIONS.get((role, state), {}))
    if state in _GOODBYE_FROM:
        allowed[ev.Goodbye] = State.CLOSED
    if state in _ERROR_FROM:
        allowed[ev.Error] = State.CLOSED
    return allowed


#: The table completed with Goodbye and Error, flattened for quick lookups.
_ALLOWED = {(role, state): _allowed(role, state) for role in Role for state in State}

_CHECKS: dict[type[ev.Event], _Check] = {
    ev.Hello: ConversationState._hello,
    ev.TransientLogin: ConversationState._transient_login,
    ev.LoginAccepted: ConversationState._verdict,
    ev.LoginRejected: ConversationState._verdict,
    ev.ParticipantList: ConversationState._participant_page,
    ev.FileOffer: _with_room_recipient(ConversationState._file_offer),
    ev.FileAccepted: ConversationState._file_accepted,
    ev.FileRejected: ConversationState._file_rejected,
    ev.UploadTicket: ConversationState._upload_ticket,
    ev.FileChunk: ConversationState._file_chunk,
    ev.FileEnd: ConversationState._file_end,
    ev.FileAvailable: _with_room_recipient(ConversationState._file_available),
    ev.FetchFile: ConversationState._fetch,
    ev.FetchRejected: ConversationState._fetch_rejected,
    ev.SendChat: ConversationState._room_recipient,
    ev.ChatMessage: ConversationState._room_recipient,
    **dict.fromkeys(_REQUESTS, ConversationState._request),
    ev.RequestDone: ConversationState._request_done,
    ev.RequestRejected: ConversationState._request_rejected,
    ev.RoomList: ConversationState._room_list,
    ev.SearchHit: ConversationState._search_hit,
    ev.SearchDone: ConversationState._search_done,
    ev.Membership: ConversationState._membership,
}

#: The checks of a role in TRANSIENT: the server may send only what answers
#: the client (a transient connection gets no broadcast, presence or replay).
_TRANSIENT_CHECKS: dict[type[ev.Event], _Check] = {
    **_CHECKS,
    ev.ChatMessage: _with_room_recipient(ConversationState._own_chat),
    ev.FileAvailable: _with_room_recipient(ConversationState._own_file),
}
