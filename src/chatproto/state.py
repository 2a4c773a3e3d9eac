"""The conversation's state machines, as one table.

Theory of operation. Both peers run the same two machines, one per role
(client, server), so each side always knows what the other may send next.
A role's state moves only with what that role sends, with two exceptions
that tie the machines together: the server speaks only after the client's
``Hello``, and the server's login verdict moves the *client*
(``LoginAccepted`` makes it ACTIVE, ``LoginRejected`` sends it back to
LOGIN). ``TRANSITIONS`` says which events each role may send in each state
and where they lead; ``Goodbye`` and ``Error`` are added to every open state
below the table. Rules that need more than the state (a verdict needs a
pending Login; chunk offsets follow on; at most so many transfers open) are
the ``_CHECKS`` beside the table. Rules about values alone (a Hello's frame
limit, a file's size) are not here: the codec checks them (``rules.py``),
before any state moves, so an invalid value never breaks a connection that
did not send it.

    client: HELLO --Hello--> LOGIN --Login--> AUTHENTICATING --(LoginAccepted)--> ACTIVE
                                 ^------------(LoginRejected)--------'
    server: HELLO --Hello--> READY --LoginAccepted--> ACTIVE
                                   `--LoginAccepted (list incomplete)--> LISTING
            LISTING --ParticipantList (the last page)--> ACTIVE
    either: any open state --Goodbye/Error--> CLOSED;  a protocol error --> ERROR

CLOSED and ERROR are both final: CLOSED after a role said Goodbye or Error
(or its stream ended cleanly), ERROR for both roles once a protocol error
was detected on the connection, whoever caused it.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any, NoReturn

from . import events as ev
from .limits import MAX_FILE_SIZE, MAX_OPEN_FETCHES, MAX_OPEN_UPLOADS, PROTOCOL_VERSION


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
    CLOSED = "closed"  # said Goodbye or Error: sends nothing more
    ERROR = "error"  # a protocol error happened: the connection is dead

    __hash__ = object.__hash__


C, S = Role.CLIENT, Role.SERVER
_KEEPALIVE = (ev.Ping, ev.Pong)

#: (role, state) -> {event class the role may send: the role's next state}
TRANSITIONS: dict[tuple[Role, State], dict[type[ev.Event], State]] = {
    (C, State.HELLO): {ev.Hello: State.LOGIN},
    (C, State.LOGIN): {ev.Login: State.AUTHENTICATING, **dict.fromkeys(_KEEPALIVE, State.LOGIN)},
    (C, State.AUTHENTICATING): dict.fromkeys(_KEEPALIVE, State.AUTHENTICATING),
    (C, State.ACTIVE): dict.fromkeys(
        (ev.SendChat, ev.FileOffer, ev.FileChunk, ev.FileEnd, ev.FetchFile, *_KEEPALIVE),
        State.ACTIVE,
    ),
    (S, State.HELLO): {ev.Hello: State.READY},
    (S, State.READY): {
        ev.LoginAccepted: State.ACTIVE,  # LISTING while pages of the list are due
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
            *_KEEPALIVE,
        ),
        State.ACTIVE,
    ),
}
#: Events a server sends in ACTIVE that change no state at all (no transfer,
#: no transition). ``PreparedEvent.broadcast`` gives their bytes (when they
#: fit every peer) for writing to any connection whose ``accepts_broadcasts``
#: is true without calling ``send``: a fan-out to thousands then costs one
#: append per recipient. ``tests/proto`` checks this claim against the table.
STATE_NEUTRAL_BROADCASTS: frozenset[type[ev.Event]] = frozenset({ev.ChatMessage, ev.Presence})

#: Goodbye ends the sender's side from any state but CLOSED and ERROR;
#: Error from any state but CLOSED (it is how a broken connection says why).
_GOODBYE_FROM = frozenset(s for s in State if s not in (State.CLOSED, State.ERROR))
_ERROR_FROM = frozenset(s for s in State if s is not State.CLOSED)


class Violation(Exception):
    """An event broke the rules; the connection turns it into a Local- or
    RemoteProtocolError depending on who sent it."""

    def __init__(self, message: str, code: str = "unexpected-message") -> None:
        super().__init__(message)
        self.code = code


class _Upload:
    __slots__ = ("accepted", "ended", "next_offset", "size")

    def __init__(self, size: int) -> None:
        self.size = size
        self.next_offset = 0
        self.accepted = False
        self.ended = False


class _NoEntries(dict[Any, Any]):
    """The empty dict every connection without transfers shares: a write to
    it would reach every connection, so it raises instead."""

    __slots__ = ()

    def _refuse(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError("the shared empty transfer table is read-only: replace it first")

    __setitem__ = __delitem__ = setdefault = update = clear = popitem = __ior__ = _refuse


_NO_UPLOADS: dict[int, _Upload] = _NoEntries()
_NO_FETCHES: dict[int, int] = _NoEntries()


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


class ConversationState:
    """Both roles' states plus the open transfers, as both peers track them."""

    # Slotted objects rather than per-role dicts: a server holds one of these
    # per connection, and thousands of idle connections add up.
    __slots__ = (
        "_client",
        "_fetches",
        "_server",
        "_uploads",
        "client_version",
        "participants_due",
        "username",
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
        # Most connections never transfer a file: they share one read-only
        # empty dict until their first transfer (insertions below replace it).
        self._uploads: dict[int, _Upload] = _NO_UPLOADS
        self._fetches: dict[int, int] = _NO_FETCHES  # file id -> next offset

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
        check = _CHECKS.get(event_type)
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

    def _verdict(self, role: Role, event: ev.Event) -> State | None:
        if self._client.state is not State.AUTHENTICATING:
            raise Violation(f"{type(event).__name__} without a pending Login")
        if isinstance(event, ev.LoginAccepted):
            self.set_state(C, State.ACTIVE)
            self.username = event.username
            self.participants_due = event.participant_count - len(event.participants)
            if self.participants_due:
                return State.LISTING
        else:
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
        return None if due == 0 else State.LISTING

    def _file_offer(self, role: Role, event: ev.Event) -> None:
        assert isinstance(event, ev.FileOffer)
        if event.upload_id in self._uploads:
            raise Violation(f"upload {event.upload_id} is already open")
        if len(self._uploads) >= MAX_OPEN_UPLOADS:
            raise Violation(f"more than {MAX_OPEN_UPLOADS} uploads open at once")
        if not self._uploads:
            self._uploads = {}
        self._uploads[event.upload_id] = _Upload(event.size)

    def _upload(self, upload_id: int) -> _Upload:
        upload = self._uploads.get(upload_id)
        if upload is None:
            raise Violation(f"no open upload {upload_id}")
        return upload

    def _file_accepted(self, role: Role, event: ev.Event) -> None:
        assert isinstance(event, ev.FileAccepted)
        upload = self._upload(event.upload_id)
        if upload.accepted:
            raise Violation(f"upload {event.upload_id} was already accepted")
        upload.accepted = True

    def _file_rejected(self, role: Role, event: ev.Event) -> None:
        assert isinstance(event, ev.FileRejected)
        self._upload(event.upload_id)
        del self._uploads[event.upload_id]

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

    def _file_available(self, role: Role, event: ev.Event) -> None:
        assert isinstance(event, ev.FileAvailable)
        # Only the uploader's connection knows the echoed upload id; upload
        # ids are per connection, so the sender must be this connection's user.
        upload = self._uploads.get(event.upload_id)
        if upload is not None and upload.ended and event.sender == self.username:
            del self._uploads[event.upload_id]

    def _fetch(self, role: Role, event: ev.Event) -> None:
        assert isinstance(event, ev.FetchFile)
        if event.file_id in self._fetches:
            raise Violation(f"file {event.file_id} is already being fetched")
        if len(self._fetches) >= MAX_OPEN_FETCHES:
            raise Violation(f"more than {MAX_OPEN_FETCHES} fetches open at once")
        if not self._fetches:
            self._fetches = {}
        self._fetches[event.file_id] = event.offset

    def _fetch_rejected(self, role: Role, event: ev.Event) -> None:
        assert isinstance(event, ev.FetchRejected)
        if self._fetches.pop(event.file_id, None) is None:
            raise Violation(f"no fetch of file {event.file_id} is open")

    @property
    def open_uploads(self) -> int:
        return len(self._uploads)

    @property
    def open_fetches(self) -> int:
        return len(self._fetches)


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
    ev.LoginAccepted: ConversationState._verdict,
    ev.LoginRejected: ConversationState._verdict,
    ev.ParticipantList: ConversationState._participant_page,
    ev.FileOffer: ConversationState._file_offer,
    ev.FileAccepted: ConversationState._file_accepted,
    ev.FileRejected: ConversationState._file_rejected,
    ev.FileChunk: ConversationState._file_chunk,
    ev.FileEnd: ConversationState._file_end,
    ev.FileAvailable: ConversationState._file_available,
    ev.FetchFile: ConversationState._fetch,
    ev.FetchRejected: ConversationState._fetch_rejected,
}
