"""Model-based test of both state machines: a client/server pair driven by random rules.

A small independent model says which events each role may send in each state
and tracks the open transfers. Allowed events must come out of the other side
unchanged; forbidden ones must raise LocalProtocolError and leave the sender
in the ERROR state (CLOSED stays CLOSED); events with an invalid field or an
out-of-range value must be refused without touching any state.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import event as note_event
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from chatproto import (
    NEED_DATA,
    STATE_NEUTRAL_BROADCASTS,
    ClientConnection,
    Limits,
    LocalProtocolError,
    ServerConnection,
    State,
    prepare,
)
from chatproto import events as ev
from chatproto.limits import (
    DEFAULT_MAX_FRAME_SIZE,
    MAX_FILE_SIZE,
    MAX_OPEN_FETCHES,
    MAX_OPEN_UPLOADS,
    MAX_PARTICIPANTS,
    MIN_FRAME_SIZE,
    OLDEST_PROTOCOL_VERSION,
    PROTOCOL_VERSION,
    TRANSIENT_LOGIN_VERSION,
    UPLOAD_TICKET_VERSION,
)
from chatproto.state import Role

C, S = Role.CLIENT, Role.SERVER
SHA = bytes(range(32))
IDS = st.integers(0, 6)


@dataclass
class Upload:
    size: int
    accepted: bool = False
    sent: int = 0
    ended: bool = False
    ticketed: bool = False  # its UploadTicket was sent (version 5)


@dataclass
class Model:
    """What the protocol allows, written independently of chatproto.state."""

    state: dict[Role, State] = field(default_factory=lambda: {C: State.HELLO, S: State.HELLO})
    client_version: int = 0
    version: int = 0  # the server's Hello's
    transient: bool = False  # the login pending or accepted is a TransientLogin
    username: str | None = None
    uploads: dict[int, Upload] = field(default_factory=dict)
    fetches: dict[int, int] = field(default_factory=dict)  # file id -> next offset
    participants_due: int = 0

    @staticmethod
    def invalid_value(e: ev.Event) -> bool:
        """Values the protocol refuses wherever they are sent (docs/protocol.md, section 4)."""
        if isinstance(e, ev.Hello):
            return e.version < OLDEST_PROTOCOL_VERSION or e.max_frame_size < MIN_FRAME_SIZE
        if isinstance(e, ev.Login):
            return (e.password == "") == (e.resume_token == b"")  # one of them, exactly
        if isinstance(e, ev.TransientLogin):
            return e.password == ""
        if isinstance(e, ev.FileOffer | ev.FileAvailable):
            return e.size > MAX_FILE_SIZE
        if isinstance(e, ev.LoginAccepted):
            return not len(e.participants) <= e.participant_count <= MAX_PARTICIPANTS
        if isinstance(e, ev.ParticipantList):
            return not e.participants
        return False

    def allowed(self, role: Role, e: ev.Event) -> bool:
        state, kind = self.state[role], type(e)
        if kind is ev.Goodbye:
            return state not in (State.CLOSED, State.ERROR)
        if kind is ev.Error:
            return state is not State.CLOSED
        if state in (State.CLOSED, State.ERROR):
            return False
        if kind in (ev.Ping, ev.Pong):
            # Not before Hello, and not between LoginAccepted and its last page.
            return state not in (State.HELLO, State.LISTING)
        if role is C:
            if state is State.HELLO:
                return isinstance(e, ev.Hello)
            if state is State.LOGIN:
                # A TransientLogin only once the server's Hello said version 3 or more.
                return kind is ev.Login or (
                    kind is ev.TransientLogin and self.state[S] is not State.HELLO
                    and self.version >= TRANSIENT_LOGIN_VERSION)
            if state not in (State.ACTIVE, State.TRANSIENT):
                return False
            if isinstance(e, ev.SendChat):
                return True
            if isinstance(e, ev.FileOffer):
                return e.upload_id not in self.uploads and len(self.uploads) < MAX_OPEN_UPLOADS
            if isinstance(e, ev.FileChunk):
                u = self.uploads.get(e.transfer_id)
                return (u is not None and u.accepted and not u.ended and e.offset == u.sent
                        and len(e.data) > 0 and u.sent + len(e.data) <= u.size)
            if isinstance(e, ev.FileEnd):
                u = self.uploads.get(e.transfer_id)
                return u is not None and u.accepted and not u.ended and u.sent == u.size
            if isinstance(e, ev.FetchFile):
                return (state is State.ACTIVE and e.file_id not in self.fetches
                        and len(self.fetches) < MAX_OPEN_FETCHES)
            return False
        if state is State.HELLO:
            return (isinstance(e, ev.Hello) and self.client_version >= OLDEST_PROTOCOL_VERSION
                    and e.version <= min(self.client_version, PROTOCOL_VERSION))
        if state is State.READY:
            # No resume token for a transient login.
            return kind in (ev.LoginAccepted, ev.LoginRejected) and (
                self.state[C] is State.AUTHENTICATING) and not (
                isinstance(e, ev.LoginAccepted) and self.transient and e.resume_token)
        if state is State.LISTING:
            return isinstance(e, ev.ParticipantList) and len(e.participants) <= (
                self.participants_due)
        if state is State.TRANSIENT:
            # Only the answers to the client's own requests: its own messages and uploads.
            if isinstance(e, ev.ChatMessage):
                return e.sender == self.username
            if isinstance(e, ev.FileAvailable):
                u = self.uploads.get(e.upload_id)
                return u is not None and u.ended and e.sender == self.username
            if kind not in (ev.ChatRejected, ev.FileAccepted, ev.FileRejected,
                            ev.UploadTicket):
                return False
        if kind in (ev.ChatMessage, ev.ChatRejected, ev.Presence, ev.FileAvailable):
            return True
        if isinstance(e, ev.FileAccepted):
            u = self.uploads.get(e.upload_id)
            return u is not None and not u.accepted
        if isinstance(e, ev.FileRejected):
            return e.upload_id in self.uploads
        if isinstance(e, ev.UploadTicket):
            # Once per accepted upload, from version 5; its bytes may all be in already.
            u = self.uploads.get(e.upload_id)
            return (self.version >= UPLOAD_TICKET_VERSION and u is not None and u.accepted
                    and not u.ticketed)
        if isinstance(e, ev.FileChunk):
            at = self.fetches.get(e.transfer_id)
            return (at is not None and e.offset == at and len(e.data) > 0
                    and at + len(e.data) <= MAX_FILE_SIZE)
        if isinstance(e, ev.FileEnd):
            return e.transfer_id in self.fetches
        if isinstance(e, ev.FetchRejected):
            return e.file_id in self.fetches
        return False

    def apply(self, role: Role, e: ev.Event) -> None:
        if isinstance(e, ev.Goodbye | ev.Error):
            self.state[role] = State.CLOSED
        elif isinstance(e, ev.Hello):
            self.state[role] = State.LOGIN if role is C else State.READY
            if role is C:
                self.client_version = e.version
            else:
                self.version = e.version
        elif isinstance(e, ev.Login | ev.TransientLogin):
            self.state[C] = State.AUTHENTICATING
            self.transient = isinstance(e, ev.TransientLogin)
        elif isinstance(e, ev.LoginAccepted):
            logged_in = State.TRANSIENT if self.transient else State.ACTIVE
            self.state[C] = logged_in
            self.participants_due = e.participant_count - len(e.participants)
            self.state[S] = State.LISTING if self.participants_due else logged_in
            self.username = e.username
        elif isinstance(e, ev.ParticipantList):
            self.participants_due -= len(e.participants)
            logged_in = State.TRANSIENT if self.transient else State.ACTIVE
            self.state[S] = State.LISTING if self.participants_due else logged_in
        elif isinstance(e, ev.LoginRejected):
            self.state[C] = State.LOGIN
            self.transient = False
        elif isinstance(e, ev.FileOffer):
            self.uploads[e.upload_id] = Upload(e.size)
        elif isinstance(e, ev.FileAccepted):
            self.uploads[e.upload_id].accepted = True
        elif isinstance(e, ev.FileRejected):
            del self.uploads[e.upload_id]
        elif isinstance(e, ev.UploadTicket):
            self.uploads[e.upload_id].ticketed = True
        elif isinstance(e, ev.FileChunk) and role is C:
            self.uploads[e.transfer_id].sent += len(e.data)
        elif isinstance(e, ev.FileChunk):
            self.fetches[e.transfer_id] += len(e.data)
        elif isinstance(e, ev.FileEnd) and role is C:
            self.uploads[e.transfer_id].ended = True
        elif isinstance(e, ev.FileEnd | ev.FetchRejected):
            del self.fetches[e.transfer_id if isinstance(e, ev.FileEnd) else e.file_id]
        elif isinstance(e, ev.FileAvailable):
            u = self.uploads.get(e.upload_id)
            if u is not None and u.ended and e.sender == self.username:
                del self.uploads[e.upload_id]
        elif isinstance(e, ev.FetchFile):
            self.fetches[e.file_id] = e.offset


def candidate_events(model: Model) -> st.SearchStrategy[ev.Event]:
    """Events of every type, with ids, offsets and sizes near what the model expects."""
    offsets = st.sampled_from(
        sorted({0, 1, *(u.sent for u in model.uploads.values()), *model.fetches.values()})
    )
    data = st.binary(max_size=12)
    names = st.sampled_from(["bob", "개구리", model.username or "alice"])
    return st.one_of(
        st.builds(ev.Hello, st.sampled_from([0, 1, 2, 3, 4, 5]),
                  st.sampled_from([MIN_FRAME_SIZE - 1, MIN_FRAME_SIZE, DEFAULT_MAX_FRAME_SIZE])),
        st.builds(ev.Login, names, st.just("pw")),
        st.builds(ev.Login, names, st.sampled_from(["", "pw"]), st.just(0), st.just(0),
                  st.sampled_from([b"", bytes(32)])),
        st.builds(ev.TransientLogin, names, st.sampled_from(["", "pw"])),
        st.builds(ev.LoginAccepted, names, st.booleans(), st.booleans(), st.integers(0, 9),
                  st.just((ev.Participant("bob"),)), st.just(0), st.booleans(),
                  st.sampled_from([0, 1, 3, MAX_PARTICIPANTS, MAX_PARTICIPANTS + 1]),
                  st.sampled_from([b"", bytes(32)])),
        st.builds(ev.ParticipantList, st.sampled_from(
            [(), (ev.Participant("x"),), (ev.Participant("x"), ev.Participant("y"))])),
        st.builds(ev.LoginRejected, st.sampled_from(list(ev.LoginRejectReason))),
        st.builds(ev.Ping, st.integers(0, 3)),
        st.builds(ev.Pong, st.integers(0, 3)),
        st.builds(ev.Goodbye),
        st.builds(ev.Error, st.just("shutdown")),
        st.builds(ev.SendChat, st.just("안녕\n하세요"), st.none() | names),
        st.builds(ev.ChatMessage, st.integers(0, 9), st.just(0), st.just(0), names,
                  st.none(), st.just("hi")),
        st.builds(ev.ChatRejected, st.integers(0, 3), st.just("unknown-user")),
        st.builds(ev.Presence, names, st.sampled_from(ev.PresenceState), st.integers(0, 9)),
        st.builds(ev.FileOffer, IDS, st.just("a,b.txt"),
                  st.integers(0, 30) | st.just(MAX_FILE_SIZE + 1), st.just(SHA)),
        st.builds(ev.FileAccepted, IDS),
        st.builds(ev.FileRejected, IDS, st.just("too-large")),
        st.builds(ev.FileChunk, IDS, offsets, data),
        st.builds(ev.FileEnd, IDS),
        st.builds(ev.FileAvailable, st.integers(0, 9), st.just(0), IDS, names, st.none(),
                  st.just("a.txt"), st.integers(0, 30) | st.just(MAX_FILE_SIZE + 1),
                  st.just(SHA), IDS),
        st.builds(ev.FetchFile, IDS, st.integers(0, 3)),
        st.builds(ev.FetchRejected, IDS, st.just("not-found")),
        st.builds(ev.UploadTicket, IDS, st.just(SHA), st.sampled_from([0, 60_000])),
    )


INVALID_FIELDS = [
    ev.SendChat("hi", recipient="no/slash"),
    ev.SendChat("\udc80"),
    ev.Login("b" * 129, "pw"),
    ev.Login("bob", ""),
    ev.TransientLogin("bob", ""),
    ev.TransientLogin("b" * 129, "pw"),
    ev.LoginRejected("Not A Token"),
    ev.Presence("a b", ev.PresenceState.JOINED, 1),
    ev.FileOffer(1, "", 1, SHA),
    ev.FileOffer(1, "x", 1, b"short"),
    ev.FileChunk(1, -1, b"x"),
    ev.FetchFile(2**64, 0),
    ev.Error("x" * 33),
]


class ConversationMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.resets = 0
        self.fresh_pair()

    def fresh_pair(self) -> None:
        # The client accepts the smallest frames allowed, to test the peer limit cheaply.
        self.conns = {C: ClientConnection(Limits(MIN_FRAME_SIZE)), S: ServerConnection()}
        self.model = Model()

    @initialize(start=st.sampled_from(["fresh", "active", "transient"]))
    def start(self, start: str) -> None:
        """A third of the runs start from nothing, the others from a pair logged in, by
        Login or by TransientLogin (the deep states)."""
        self.reset(start)

    def reset(self, start: str | None = None) -> None:
        """A new pair after the old one broke; logged in, so that runs reach transfers,
        by Login and by TransientLogin in turn."""
        self.fresh_pair()
        self.resets += 1
        start = start or ("transient" if self.resets % 2 else "active")
        if start == "fresh":
            return
        transient = start == "transient"
        self.check_send(C, self.conns[C].hello())
        if not transient:
            self.check_send(C, ev.Login("개구리", "pw", 5))  # may come before the server's Hello
        self.check_send(S, self.conns[S].hello())
        if transient:
            self.check_send(C, ev.TransientLogin("개구리", "pw"))  # must come after it
        self.check_send(S, ev.LoginAccepted("개구리", True, False, 5))
        logged_in = State.TRANSIENT if transient else State.ACTIVE
        assert self.model.state == {C: logged_in, S: logged_in}

    def other(self, role: Role) -> Role:
        return S if role is C else C

    def check_send(self, role: Role, event: ev.Event, prepared: bool = False) -> None:
        sender, receiver = self.conns[role], self.conns[self.other(role)]
        if self.model.invalid_value(event):
            note_event(f"{role.value} {type(event).__name__} out of range")
            self.refused_changes_nothing(role, event)
            return
        allowed = self.model.allowed(role, event)
        note_event(f"{role.value} {type(event).__name__} {'allowed' if allowed else 'forbidden'}")
        if allowed:
            data = sender.send(prepare(event) if prepared else event)
            self.model.apply(role, event)
            receiver.receive_data(data)
            assert receiver.next_event() == event
            assert receiver.next_event() is NEED_DATA
            return
        before = dict(self.model.state)
        with pytest.raises(LocalProtocolError):
            sender.send(event)
        for r in (C, S):
            expected = State.CLOSED if before[r] is State.CLOSED else State.ERROR
            assert sender._conversation.state_of(r) is expected
        # The receiver saw nothing; it still agrees with the model.
        assert receiver.our_state is before[self.other(role)]
        assert receiver.their_state is before[role]
        with pytest.raises(LocalProtocolError):
            sender.send(ev.Ping(0))  # the error state is permanent
        if sender.our_state is State.ERROR:
            # ...but a broken side may still say why, and then it is closed.
            receiver.receive_data(sender.send(ev.Error("unexpected-message", "sorry")))
            assert receiver.next_event() == ev.Error("unexpected-message", "sorry")
            receiver.receive_data(b"")
            assert receiver.next_event() == ev.ConnectionClosed(clean=True)
            assert sender.our_state is State.CLOSED
        self.reset()

    # -- the handshake -----------------------------------------------------------

    @precondition(lambda self: self.model.state[C] is State.HELLO)
    @rule()
    def client_hello(self) -> None:
        self.check_send(C, self.conns[C].hello())

    @precondition(lambda self: self.model.state[C] is State.HELLO)
    @rule()
    def client_hello_of_version_2(self) -> None:
        """A peer of the oldest version spoken: no TransientLogin may follow."""
        hello = self.conns[C].hello()  # its frame limit: the smallest (fresh_pair)
        self.check_send(C, ev.Hello(OLDEST_PROTOCOL_VERSION, hello.max_frame_size, "v2"))

    @precondition(lambda self: self.model.state[S] is State.HELLO)
    @rule()
    def server_hello(self) -> None:
        self.check_send(S, self.conns[S].hello())

    @precondition(lambda self: self.model.state[S] is State.HELLO)
    @rule()
    def server_hello_of_version_2(self) -> None:
        self.check_send(S, ev.Hello(OLDEST_PROTOCOL_VERSION, DEFAULT_MAX_FRAME_SIZE, "v2"))

    @precondition(lambda self: self.model.state[C] is State.LOGIN)
    @rule(name=st.sampled_from(["개구리", "bob"]))
    def login(self, name: str) -> None:
        self.check_send(C, ev.Login(name, "비밀번호"))

    @precondition(lambda self: self.model.state[C] is State.LOGIN)
    @rule(name=st.sampled_from(["개구리", "bob"]))
    def transient_login(self, name: str) -> None:
        """Allowed only after a server Hello of version 3: before it, or at version 2, the
        pair breaks."""
        self.check_send(C, ev.TransientLogin(name, "비밀번호"))

    # The server's Hello must be out: otherwise the LoginAccepted breaks the
    # pair, and the pages would go to the fresh pair that replaces it.
    @precondition(lambda self: self.model.state[C] is State.AUTHENTICATING
                  and self.model.state[S] is State.READY)
    @rule(name=st.sampled_from(["개구리", "bob"]), pages=st.lists(st.integers(1, 3), max_size=3),
          data=st.data())
    def verdict_with_pages(self, name: str, pages: list[int], data: st.DataObject) -> None:
        """A participant list too long for one frame: the rest follows in pages, and
        nothing else may come between LoginAccepted and the last page."""
        first = (ev.Participant(name),)
        self.check_send(S, ev.LoginAccepted(name, False, False, 0, first,
                                            participant_count=1 + sum(pages)))
        for number, size in enumerate(pages):
            if number == 0 and data.draw(st.booleans()):
                self.check_send(S, ev.Ping(1))  # forbidden while listing: the pair breaks
                return
            page = tuple(ev.Participant(f"p{number}x{i}") for i in range(size))
            self.check_send(S, ev.ParticipantList(page))
        assert self.model.state[S] is (State.TRANSIENT if self.model.transient else State.ACTIVE)

    @precondition(lambda self: self.model.state[C] is State.AUTHENTICATING)
    @rule(accept=st.booleans(), name=st.sampled_from(["개구리", "bob"]),
          token=st.sampled_from([b"", b"", bytes(32)]))
    def verdict(self, accept: bool, name: str, token: bytes) -> None:
        """A resume token is fine after a Login, forbidden after a TransientLogin."""
        if accept:
            self.check_send(S, ev.LoginAccepted(name, False, True, 3,
                                                (ev.Participant(name), ev.Participant("x")),
                                                resume_token=token))
        else:
            self.check_send(S, ev.LoginRejected("bad-password", "wrong"))

    # -- chat -------------------------------------------------------------------

    @precondition(lambda self: self.model.state[C] in (State.ACTIVE, State.TRANSIENT))
    @rule(text=st.text(max_size=30), to=st.none() | st.just("bob"))
    def chat(self, text: str, to: str | None) -> None:
        self.check_send(C, ev.SendChat(text, to, 1))

    @precondition(lambda self: self.model.state[S] in (State.ACTIVE, State.TRANSIENT))
    @rule(text=st.text(max_size=30), to=st.none() | st.just("bob"), prepared=st.booleans())
    def deliver_own(self, text: str, to: str | None, prepared: bool) -> None:
        """The delivery of the client's own message: what a transient connection gets."""
        self.check_send(S, ev.ChatMessage(1, 2, 1, self.model.username or "bob", to, text),
                        prepared)

    @precondition(lambda self: self.model.state[S] is State.TRANSIENT)
    @rule(kind=st.sampled_from(["chat", "presence", "file"]))
    def broadcast_to_transient(self, kind: str) -> None:
        """Someone else's message, a presence, someone else's file: forbidden, the pair
        breaks (unless the user is the other one too)."""
        other = "bob" if self.model.username != "bob" else "개구리"
        event: ev.Event = {
            "chat": ev.ChatMessage(1, 2, 0, other, None, "hi"),
            "presence": ev.Presence(other, ev.PresenceState.JOINED, 2),
            "file": ev.FileAvailable(3, 0, 7, other, None, "a.txt", 1, SHA, 0),
        }[kind]
        self.check_send(S, event)

    @precondition(lambda self: self.model.state[S] is State.ACTIVE)
    @rule(text=st.text(max_size=30), prepared=st.booleans())
    def deliver(self, text: str, prepared: bool) -> None:
        self.check_send(S, ev.ChatMessage(1, 2, 1, "bob", None, text), prepared)
        self.check_send(S, ev.Presence("bob", ev.PresenceState.JOINED, 2), prepared)

    # -- uploads ------------------------------------------------------------------

    @precondition(lambda self: self.model.state[C] in (State.ACTIVE, State.TRANSIENT))
    @rule(upload_id=IDS, size=st.integers(0, 40))
    def offer(self, upload_id: int, size: int) -> None:
        self.check_send(C, ev.FileOffer(upload_id, "사진, 1.png", size, SHA, None))

    @precondition(lambda self: self.model.uploads)
    @rule(data=st.data(), accept=st.booleans())
    def answer_offer(self, data: st.DataObject, accept: bool) -> None:
        upload_id = data.draw(st.sampled_from(sorted(self.model.uploads)))
        event = ev.FileAccepted(upload_id) if accept else ev.FileRejected(upload_id, "too-large")
        self.check_send(S, event)

    @precondition(lambda self: any(u.accepted and not u.ended for u in self.model.uploads.values()))
    @rule(data=st.data())
    def upload_chunk(self, data: st.DataObject) -> None:
        upload_id = data.draw(st.sampled_from(
            sorted(i for i, u in self.model.uploads.items() if u.accepted and not u.ended)))
        upload = self.model.uploads[upload_id]
        length = data.draw(st.integers(1, max(1, upload.size - upload.sent)))
        self.check_send(C, ev.FileChunk(upload_id, upload.sent, bytes(length)))

    @precondition(lambda self: self.model.uploads)
    @rule(data=st.data())
    def upload_end(self, data: st.DataObject) -> None:
        self.check_send(C, ev.FileEnd(data.draw(st.sampled_from(sorted(self.model.uploads)))))

    @precondition(lambda self: any(u.ended for u in self.model.uploads.values()))
    @rule(data=st.data(), checksum_ok=st.booleans())
    def verify_upload(self, data: st.DataObject, checksum_ok: bool) -> None:
        upload_id = data.draw(st.sampled_from(
            sorted(i for i, u in self.model.uploads.items() if u.ended)))
        if checksum_ok:
            size = self.model.uploads[upload_id].size
            self.check_send(S, ev.FileAvailable(9, 0, 99, self.model.username or "bob", None,
                                                "사진, 1.png", size, SHA, upload_id))
        else:
            self.check_send(S, ev.FileRejected(upload_id, "checksum-mismatch"))

    @precondition(lambda self: self.model.state[C] in (State.ACTIVE, State.TRANSIENT))
    @rule(upload_id=IDS, pieces=st.lists(st.binary(min_size=1, max_size=9), max_size=4))
    def upload_whole_file(self, upload_id: int, pieces: list[bytes]) -> None:
        """The happy path in one go: offer, accept, chunks in order, end, available."""
        size = sum(map(len, pieces))
        self.check_send(C, ev.FileOffer(upload_id, "a.txt", size, SHA, "bob"))
        self.check_send(S, ev.FileAccepted(upload_id))
        offset = 0
        for piece in pieces:
            self.check_send(C, ev.FileChunk(upload_id, offset, piece))
            offset += len(piece)
        self.check_send(C, ev.FileEnd(upload_id))
        self.check_send(S, ev.FileAvailable(1, 0, 7, self.model.username or "bob", "bob", "a.txt",
                                            size, SHA, upload_id))

    @precondition(lambda self: self.model.state[C] in (State.ACTIVE, State.TRANSIENT))
    @rule(file_id=IDS, offset=st.integers(0, 5),
          pieces=st.lists(st.binary(min_size=1, max_size=9), max_size=4))
    def fetch_whole_file(self, file_id: int, offset: int, pieces: list[bytes]) -> None:
        """The happy path of a (possibly resumed) download: fetch, chunks in order, end."""
        self.check_send(C, ev.FetchFile(file_id, offset))
        for piece in pieces:
            self.check_send(S, ev.FileChunk(file_id, offset, piece))
            offset += len(piece)
        self.check_send(S, ev.FileEnd(file_id))

    # -- downloads -----------------------------------------------------------------

    @precondition(lambda self: self.model.state[C] in (State.ACTIVE, State.TRANSIENT))
    @rule(file_id=IDS, offset=st.integers(0, 5))
    def fetch(self, file_id: int, offset: int) -> None:
        self.check_send(C, ev.FetchFile(file_id, offset))

    @precondition(lambda self: self.model.fetches)
    @rule(data=st.data(), action=st.sampled_from(["chunk", "chunk", "end", "reject"]))
    def serve_fetch(self, data: st.DataObject, action: str) -> None:
        file_id = data.draw(st.sampled_from(sorted(self.model.fetches)))
        if action == "chunk":
            payload = data.draw(st.binary(min_size=1, max_size=20))
            self.check_send(S, ev.FileChunk(file_id, self.model.fetches[file_id], payload))
        elif action == "end":
            self.check_send(S, ev.FileEnd(file_id))
        else:
            self.check_send(S, ev.FetchRejected(file_id, "not-found"))

    # -- anything at all, allowed or not -----------------------------------------------

    @rule(role=st.sampled_from([C, S]), data=st.data())
    def send_anything(self, role: Role, data: st.DataObject) -> None:
        if data.draw(st.integers(0, 9)) == 0:
            self.hang_up(role)
        else:
            self.check_send(role, data.draw(candidate_events(self.model)))

    @rule(role=st.sampled_from([C, S]), event=st.sampled_from(INVALID_FIELDS))
    def invalid_field_changes_nothing(self, role: Role, event: ev.Event) -> None:
        self.refused_changes_nothing(role, event)

    def refused_changes_nothing(self, role: Role, event: ev.Event) -> None:
        sender = self.conns[role]
        before = (sender.our_state, sender.their_state, sender.open_uploads, sender.open_fetches)
        with pytest.raises(LocalProtocolError):
            sender.send(event)
        assert (sender.our_state, sender.their_state, sender.open_uploads,
                sender.open_fetches) == before

    @precondition(lambda self: self.model.state[S] not in (State.HELLO, State.CLOSED))
    @rule()
    def chunk_over_the_peer_frame_limit_changes_nothing(self) -> None:
        # The client announced MIN_FRAME_SIZE; this payload is one byte over it.
        chunk = ev.FileChunk(0, 0, bytes(MIN_FRAME_SIZE - 15))
        with pytest.raises(LocalProtocolError) as info:
            self.conns[S].send(chunk)
        assert info.value.code == "frame-too-large"

    def hang_up(self, role: Role) -> None:
        """``role`` closes its end of the stream (cleanly if it said Goodbye or Error)."""
        receiver = self.conns[self.other(role)]
        receiver.receive_data(b"")
        clean = self.model.state[role] is State.CLOSED
        assert receiver.next_event() == ev.ConnectionClosed(clean=clean)
        assert receiver.next_event() == ev.ConnectionClosed(clean=clean)
        assert receiver.their_state is (
            State.ERROR if self.model.state[role] is State.ERROR else State.CLOSED)
        self.reset()

    # -- both sides agree with the model after every step ------------------------------

    @invariant()
    def states_match_the_model(self) -> None:
        client, server = self.conns[C], self.conns[S]
        assert (client.our_state, client.their_state) == (self.model.state[C],
                                                          self.model.state[S])
        assert (server.our_state, server.their_state) == (self.model.state[S],
                                                          self.model.state[C])
        for conn in (client, server):
            assert conn.open_uploads == len(self.model.uploads)
            assert conn.open_fetches == len(self.model.fetches)
            assert conn.username == self.model.username
            assert conn.transient == self.model.transient
            assert conn.version == self.model.version
        assert server.accepts_broadcasts == (self.model.state[S] is State.ACTIVE)


ConversationMachine.TestCase.settings = settings(
    max_examples=100, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestConversation = ConversationMachine.TestCase


def test_state_neutral_broadcasts_really_change_nothing() -> None:
    """The server may append these events' bytes without ``send``: check the claim. The
    only checks they have are the version rule of rooms, which moves nothing (the server
    writes ``for_rooms`` bytes only where ``speaks_rooms``)."""
    from chatproto.state import _CHECKS, TRANSITIONS, ConversationState, Role, State

    version_rules = (ConversationState._room_recipient, ConversationState._membership)
    for event_type in STATE_NEUTRAL_BROADCASTS:
        assert TRANSITIONS[Role.SERVER, State.ACTIVE][event_type] is State.ACTIVE
        assert _CHECKS.get(event_type) in (None, *version_rules)


def test_room_broadcasts_are_marked_and_only_version_4_speaks_them() -> None:
    from chatproto import prepare

    assert prepare(ev.Membership("dev", "bob", ev.MembershipState.JOINED, 1)).for_rooms
    assert prepare(ev.ChatMessage(1, 0, 0, "bob", "#dev", "x")).for_rooms
    assert not prepare(ev.ChatMessage(1, 0, 0, "bob", None, "x")).for_rooms
    assert not prepare(ev.ChatMessage(1, 0, 0, "bob", "frog", "x")).for_rooms
    for version in (3, 4):
        client, server = ClientConnection(), ServerConnection()
        hello = ev.Hello(version, client.limits.max_frame_size)
        server.receive_data(client.send(hello))
        server.next_event()
        client.receive_data(server.send(server.hello()))
        client.next_event()
        assert server.speaks_rooms is (version >= 4)
        assert client.speaks_rooms is (version >= 4)


def test_a_transient_connection_takes_no_broadcast() -> None:
    """Broadcast bytes go only where ``accepts_broadcasts`` holds, which is ACTIVE alone: in
    TRANSIENT a presence is not allowed at all, and a ChatMessage is checked (its sender must
    be the connection's user), so it must go through ``send``."""
    from chatproto.state import _TRANSIENT_CHECKS, TRANSITIONS, Role, State

    allowed = TRANSITIONS[Role.SERVER, State.TRANSIENT]
    for event_type in STATE_NEUTRAL_BROADCASTS:
        assert event_type not in allowed or event_type in _TRANSIENT_CHECKS
    assert ev.Presence not in allowed
    client, server = ClientConnection(), ServerConnection()
    server.receive_data(client.send(client.hello()))
    server.next_event()
    client.receive_data(server.send(server.hello()))
    client.next_event()
    server.receive_data(client.send(ev.TransientLogin("개구리", "pw")))
    server.next_event()
    client.receive_data(server.send(ev.LoginAccepted("개구리", False, False, 0)))
    client.next_event()
    assert (server.our_state, client.our_state) == (State.TRANSIENT, State.TRANSIENT)
    assert not server.accepts_broadcasts
    prepared = prepare(ev.ChatMessage(1, 0, 0, "bob", None, "not for you"))
    assert prepared.broadcast is not None  # fit for every ACTIVE connection, not this one
    with pytest.raises(LocalProtocolError):
        server.send(prepared)


def test_the_shared_empty_transfer_tables_cannot_be_written() -> None:
    """Connections without transfers share one empty table each for uploads and
    fetches (memory, at thousands of idle connections); a write that forgot to
    replace it would have reached every connection, so the table refuses it."""
    from chatproto.state import _NO_FETCHES, _NO_UPLOADS, ConversationState

    for table in (_NO_UPLOADS, _NO_FETCHES):
        with pytest.raises(TypeError):
            table[1] = 0  # type: ignore[assignment]
        with pytest.raises(TypeError):
            table.setdefault(1, 0)  # type: ignore[arg-type]
        assert table.pop(1, None) is None and not table
    first, second = ConversationState(), ConversationState()
    assert first._fetches is second._fetches is _NO_FETCHES  # shared while empty
