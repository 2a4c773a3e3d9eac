"""The client state machine part of the JavaScript corpus, computed by Python's
``ClientConnection``: the invalid-input vectors of docs/protocol.md 8.2, and random runs.

A vector for a client receiver is replayed as it is: the same steps, then the frames. One
for a server receiver is replayed *mirrored*: a client in the state that matches the
server's (what the server received, the client sent; what it sent, the client received)
must refuse to send those frames, with the code the server would give: the frame does not
decode (``remote``), or ``send`` refuses it (``local``). Python's own ClientConnection
gives the verdict here, and ``test_chatproto_js.py`` checks that it is the vector's code.

A run is a list of steps, each a send (an event), a receive (one whole frame) or the end of
the server's stream, with what Python's ClientConnection did: the frame sent, the event
received, or the error and its code; and the connection's properties after it.
"""

from __future__ import annotations

import copy
import importlib.util
import random
import re
import struct
import sys
from types import ModuleType
from typing import Any

from hypothesis import strategies as st

from chatproto import NEED_DATA, ClientConnection
from chatproto import events as ev
from chatproto._codec import encode_event
from chatproto.errors import LocalProtocolError, RemoteProtocolError
from chatproto.limits import DEFAULT_MAX_FRAME_SIZE, MIN_FRAME_SIZE
from chatproto.wire import HEADER, LAYOUT_BY_CODE
from proto.strategies import EVENT_STRATEGIES, texts
from web.corpus import DOC, ROOT, draw, event_to_json, field_mutations, python_decode

_SHA = bytes.fromhex("b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9")


def _generator() -> ModuleType:
    name = "gen_protocol_tables"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_ROW = re.compile(
    r"^\| (\d+) \| (.+?) \| (client|server) \| `([a-z0-9-]+)` \| `([0-9a-f ]+)`"
    r"( \+ end of stream)? \| `([a-z0-9-]+)` \|$",
    re.M,
)


def _steps(gen: ModuleType, key: str) -> list[tuple[str, ev.Event]]:
    setup = gen.SETUPS[key]
    return (_steps(gen, setup.base) if setup.base else []) + list(setup.steps)


def _pieces(data: bytes) -> list[bytes]:
    """``data`` cut at its frame boundaries (the last piece may be a partial frame)."""
    pieces, pos = [], 0
    while pos < len(data):
        length = int.from_bytes(data[pos + 1 : pos + 5], "big") if len(data) - pos >= 5 else 0
        end = min(len(data), pos + 5 + length)
        pieces.append(data[pos:end])
        pos = end
    return pieces


def _mirror_outcome(steps: list[tuple[str, ev.Event]], pieces: list[bytes]) -> dict[str, Any]:
    client = ClientConnection()
    for verb, event in steps:
        if verb == "received":  # the server received it: the client sent it
            client.send(event)
        else:
            client.receive_data(encode_event(event))
            assert client.next_event() == event
    for index, piece in enumerate(pieces):
        try:
            event = python_decode(piece)
        except RemoteProtocolError as exc:
            return {"frame": index, "error": "remote", "code": exc.code}
        try:
            client.send(event)
        except LocalProtocolError as exc:
            return {"frame": index, "error": "local", "code": exc.code}
    return {"frame": len(pieces), "error": None, "code": None}


def invalid_vectors() -> list[dict[str, Any]]:
    gen = _generator()
    text = DOC.read_text(encoding="utf-8")
    section = text.split("<!-- BEGIN GENERATED: invalid-vectors -->")[1]
    out = []
    for number, fault, receiver, state, hexes, eof, code in _ROW.findall(section):
        steps = _steps(gen, state)
        pieces = _pieces(bytes.fromhex(hexes))
        record: dict[str, Any] = {
            "number": int(number), "fault": fault, "receiver": receiver, "state": state,
            "frames": [piece.hex() for piece in pieces], "endOfStream": bool(eof), "code": code,
        }
        if receiver == "client":
            record["steps"] = [[verb, event_to_json(event)] for verb, event in steps]
        else:
            mirrored = {"received": "sent", "sent": "received"}
            record["steps"] = [[mirrored[verb], event_to_json(event)] for verb, event in steps]
            record["mirror"] = _mirror_outcome(steps, pieces)
        out.append(record)
    return out


# -- random runs -----------------------------------------------------------------------------
# The walk's choices come from a ``random.Random`` seeded by hypothesis (uniform, where
# hypothesis's own small integers lean towards their lower bound); event contents that need
# the full strategies come from ``draw``.

_USERS = ("alice", "bob", "Alice")
_RECIPIENTS = (None, None, "bob", "#dev", "alice")
_TEXTS = ("", "hi", "안녕", "a\nb")


class _Walk:
    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw
        self.rng = random.Random(draw(st.integers(0, 2**32 - 1)))
        #: A careful run tries a few steps on a copy and keeps one that breaks no rule,
        #: so that it gets deep into a session; the others take what comes.
        self.careful = self.rng.random() < 0.6

    def id(self, open_ids: Any = ()) -> int:
        """Mostly an id that is open (so that a run gets far), now and then any."""
        ids = sorted(open_ids)
        return self.rng.choice(ids) if ids and self.rng.random() < 0.8 else self.rng.randint(1, 4)

    def pick(self, options: Any) -> Any:
        return self.rng.choice(list(options))

    def text(self) -> str:
        return self.pick(_TEXTS) if self.rng.random() < 0.8 else self.draw(texts)

    def any_event(self) -> ev.Event:
        return self.draw(EVENT_STRATEGIES[self.pick(EVENT_STRATEGIES)])


def _snapshot(conn: ClientConnection) -> dict[str, Any]:
    return {
        "state": conn.our_state.value, "theirState": conn.their_state.value,
        "version": conn.version or None, "username": conn.username, "transient": conn.transient,
        "openUploads": conn.open_uploads, "openFetches": conn.open_fetches,
        "openRequests": conn._conversation.open_requests,
        "peerMaxFrameSize": conn.peer_max_frame_size or None, "chunkSize": conn.chunk_size,
        "speaksRooms": conn.speaks_rooms, "speaksUploadTickets": conn.speaks_upload_tickets,
    }


def _send(conn: ClientConnection, event: ev.Event) -> dict[str, Any]:
    step: dict[str, Any] = {"send": event_to_json(event)}
    try:
        step["hex"] = conn.send(event).hex()
    except LocalProtocolError as exc:
        step.update(error="local", code=exc.code)
    return step


def _receive(conn: ClientConnection, frame: bytes) -> dict[str, Any]:
    step: dict[str, Any] = {"receive": frame.hex()}
    try:
        conn.receive_data(frame)
        event = conn.next_event()
    except LocalProtocolError as exc:
        step.update(error="local", code=exc.code)
    except RemoteProtocolError as exc:
        step.update(error="remote", code=exc.code)
    else:
        assert event is not NEED_DATA, "a whole frame always gives an event or an error"
        step["event"] = event_to_json(event)  # type: ignore[arg-type]
    return step


def _close(conn: ClientConnection) -> dict[str, Any]:
    step: dict[str, Any] = {"close": True}
    try:
        conn.receive_data(b"")
        closed = conn.next_event()
    except RemoteProtocolError as exc:
        step.update(error="remote", code=exc.code)
    else:
        assert isinstance(closed, ev.ConnectionClosed)
        step["event"] = {"type": "ConnectionClosed", "fields": {"clean": closed.clean}}
    return step


def _client_event(walk: _Walk, conn: ClientConnection) -> ev.Event:
    conv = conn._conversation
    # Choices 11 on end the run or break a rule: drawn less often than the others.
    choice = walk.rng.randint(0, 40)
    choice = choice if choice < 16 else choice % 11
    if choice == 0:
        return ev.SendChat(walk.text(), walk.pick(_RECIPIENTS), walk.id())
    if choice == 1:
        return ev.FileOffer(walk.id(), "a.txt", walk.pick([0, 3, 6, 10]), _SHA,
                            walk.pick(_RECIPIENTS))
    if choice in (2, 3):
        upload_id = walk.id(conv._uploads)
        upload = conv._uploads.get(upload_id)
        right = upload.next_offset if upload is not None else 0
        # Now and then a chunk over the smallest frame limit a server may announce.
        data = bytes(65_590) if walk.rng.random() < 0.03 else walk.pick([b"a", b"ab", b"abc", b""])
        return ev.FileChunk(upload_id, walk.pick([right, right, right, 0, 1, 7]), data)
    if choice == 4:
        return ev.FileEnd(walk.id(conv._uploads))
    if choice == 5:
        return ev.FetchFile(walk.id(), walk.pick([0, 0, 2]))
    if choice == 6:
        return ev.CreateRoom(walk.id(), "dev", walk.rng.random() < 0.5)
    if choice == 7:
        return walk.pick([ev.JoinRoom, ev.LeaveRoom])(walk.id(), "dev")
    if choice == 8:
        return ev.InviteToRoom(walk.id(), "dev", "bob")
    if choice == 9:
        return ev.ListRooms(walk.id())
    if choice == 10:
        return ev.SearchHistory(walk.id(), "hi", walk.rng.randint(1, 3), 0,
                                walk.pick([None, "dev", "general"]))
    if choice == 11:
        return walk.pick([ev.Ping(7), ev.Pong(8), ev.Goodbye("bye"), ev.Error("timeout")])
    if choice == 12:
        return ev.Login("alice", "pw")
    if choice == 13:
        return ev.TransientLogin("alice", "pw")
    if choice == 14:
        return ev.Hello(4, DEFAULT_MAX_FRAME_SIZE)
    return walk.any_event()


def _login_verdict(walk: _Walk) -> ev.Event:
    if walk.rng.random() < 0.2:
        return ev.LoginRejected(walk.pick(["bad-password", "already-active"]))
    listed = tuple(ev.Participant(n) for n in walk.pick([(), ("alice",), ("alice", "bob")]))
    token = walk.pick([b"", b"", bytes(32)])
    return ev.LoginAccepted(walk.pick(_USERS), walk.rng.random() < 0.5, False, 5, listed, 9, False,
                            len(listed) + walk.pick([0, 0, 0, 1, 2]), token)


def _server_event(walk: _Walk, conn: ClientConnection) -> ev.Event:
    conv = conn._conversation
    # Choices 12 on end the run or break a rule: drawn less often than the others.
    choice = walk.rng.randint(0, 44)
    choice = choice if choice < 18 else choice % 12
    uploads, fetches, requests = conv._uploads, conv._fetches, conv._requests
    if choice == 0:
        return ev.ChatMessage(walk.id(), 1, walk.id(), walk.pick(_USERS), walk.pick(_RECIPIENTS),
                              walk.text())
    if choice == 1:
        return ev.Presence(walk.pick(_USERS), walk.pick(ev.PresenceState), 2)
    if choice == 2:
        return walk.pick([ev.FileAccepted(walk.id(uploads)),
                          ev.FileRejected(walk.id(uploads), "too-large"),
                          ev.UploadTicket(walk.id(uploads), bytes(range(32)), 60_000)])
    if choice in (3, 4):
        file_id = walk.id(fetches)
        right = fetches.get(file_id, 0)
        data = walk.pick([b"abc", b"x", b""])
        return ev.FileChunk(file_id, walk.pick([right, right, 0, 5]), data)
    if choice == 5:
        return ev.FileEnd(walk.id(fetches))
    if choice == 6:
        return ev.FileAvailable(3, 1, 9, walk.pick(_USERS), walk.pick(_RECIPIENTS), "a.txt",
                                walk.pick([0, 3, 6, 10]), _SHA, walk.pick([0, walk.id(uploads)]))
    if choice == 7:
        return ev.FetchRejected(walk.id(fetches), "not-found")
    if choice == 8:
        request_id = walk.id(requests)
        return walk.pick([ev.RequestDone(request_id), ev.RequestRejected(request_id, "not-found"),
                          ev.SearchDone(request_id, walk.rng.random() < 0.5)])
    if choice == 9:
        return ev.RoomList(walk.id(requests), (ev.RoomInfo("dev", 2),), walk.rng.random() < 0.5)
    if choice == 10:
        return ev.SearchHit(walk.id(requests), 4, 1, "bob", walk.pick(_RECIPIENTS), "hi")
    if choice == 11:
        return ev.Membership("dev", walk.pick(_USERS), walk.pick(ev.MembershipState), 2)
    if choice == 12:
        return walk.pick([ev.Ping(1), ev.Pong(2), ev.Goodbye(), ev.Error("shutdown")])
    if choice == 13:
        names = walk.pick([("carol",), ("carol", "dave"), ("carol", "dave", "erin")])
        return ev.ParticipantList(tuple(ev.Participant(n) for n in names))
    if choice == 14:
        return _login_verdict(walk)
    if choice == 15:
        limit = walk.pick([DEFAULT_MAX_FRAME_SIZE, MIN_FRAME_SIZE])
        return ev.Hello(walk.pick([4, 3, 2, 5]), limit)
    return walk.any_event()


def _greeting(walk: _Walk, conn: ClientConnection) -> tuple[str, ev.Event | bytes] | None:
    """The step a run takes to get on (most of the time), by state."""
    state, theirs = conn.our_state.value, conn.their_state.value
    limit = walk.pick([DEFAULT_MAX_FRAME_SIZE, DEFAULT_MAX_FRAME_SIZE, MIN_FRAME_SIZE])
    if state == "hello":
        return "send", ev.Hello(walk.pick([4, 4, 4, 4, 4, 3, 3, 2, 1]), limit)
    if theirs == "hello":
        offered = conn._conversation.client_version
        version = walk.pick([offered] * 8 + [max(offered - 1, 2), offered + 1, 1])
        # Written by hand: Python refuses to encode a Hello of version 1.
        return "receive", HEADER.pack(0x01, 7) + struct.pack("!HIB", version, limit, 0)
    if state == "login":
        return "send", walk.pick([ev.Login("alice", "pw", 3, 9), ev.Login("alice", "pw"),
                                  ev.Login("alice", "", resume_token=bytes(32)),
                                  ev.TransientLogin("alice", "pw")])
    if state == "authenticating":
        return "receive", _login_verdict(walk)
    if theirs == "listing":
        due = conn._conversation.participants_due
        names = [f"p{i}" for i in range(walk.rng.randint(1, due + (walk.rng.random() < 0.2)))]
        return "receive", ev.ParticipantList(tuple(ev.Participant(n) for n in names))
    return None


def _step(walk: _Walk, conn: ClientConnection) -> dict[str, Any] | None:
    roll = walk.rng.random()
    planned = _greeting(walk, conn) if roll < 0.85 else None
    if roll >= 0.985:
        return _close(conn)
    if roll >= 0.96:
        good = encode_event(_server_event(walk, conn))
        mutated = list(field_mutations(LAYOUT_BY_CODE[good[0]], good)) or [good]
        return _receive(conn, walk.pick(mutated))
    if planned is not None:
        verb, what = planned
        if isinstance(what, bytes):
            return _receive(conn, what)
        return _send(conn, what) if verb == "send" else _receive(conn, encode_event(what))
    if walk.rng.random() < 0.5:
        return _send(conn, _client_event(walk, conn))
    try:
        return _receive(conn, encode_event(_server_event(walk, conn)))
    except LocalProtocolError:
        return None  # an event that cannot be written (a drawn one, invalid where it goes)


def _copy(conn: ClientConnection) -> ClientConnection:
    # The buffer's table of layouts is shared and holds struct objects: not copied.
    layouts = conn._buffer._layouts
    return copy.deepcopy(conn, {id(layouts): layouts})


@st.composite
def runs(draw: st.DrawFn) -> list[dict[str, Any]]:
    walk = _Walk(draw)
    conn = ClientConnection()
    steps: list[dict[str, Any]] = []
    dead, ended = 0, False
    for _ in range(walk.rng.randint(3, 60)):
        if dead > 2:
            break  # a few steps after the end show that it lasts; more show nothing new
        step = None
        for _ in range(6 if walk.careful else 1):
            trial = _copy(conn)
            step = _step(walk, trial)
            if step is not None and "error" not in step and "close" not in step:
                break
        if step is None:
            continue
        conn = trial
        step["after"] = _snapshot(conn)
        steps.append(step)
        ended = ended or "close" in step
        if ended or conn.our_state.value in ("closed", "error"):
            dead += 1
    return steps


_HELLO = ev.Hello(4, DEFAULT_MAX_FRAME_SIZE)
_SMALL_HELLO = ev.Hello(4, MIN_FRAME_SIZE)
_WELCOME = ev.LoginAccepted("alice", False, False, 5, (ev.Participant("alice"),), 9)
_TRANSIENT_WELCOME = ev.LoginAccepted("alice", False, False, 5, (), 9, False, 0)
_HELLO_V5 = ev.Hello(5, DEFAULT_MAX_FRAME_SIZE)
_TICKET_TOKEN = bytes(range(32, 64))


def _scripts() -> list[list[tuple[str, Any]]]:
    """Runs written out, for what random ones reach too rarely."""
    login = [("send", _HELLO), ("receive", _SMALL_HELLO), ("send", ev.Login("alice", "pw"))]
    upload = [("send", ev.FileOffer(1, "a.txt", 6, _SHA)), ("receive", ev.FileAccepted(1)),
              ("send", ev.FileChunk(1, 0, b"abc")), ("send", ev.FileChunk(1, 3, b"def")),
              ("send", ev.FileEnd(1)),
              ("receive", ev.FileAvailable(3, 1, 9, "alice", None, "a.txt", 6, _SHA, 1))]
    return [
        # A whole upload, then chunks over and at the server's frame limit of MIN_FRAME_SIZE.
        [*login, ("receive", _WELCOME), *upload, ("send", ev.FileOffer(2, "b", 70_000, _SHA)),
         ("receive", ev.FileAccepted(2)), ("send", ev.FileChunk(2, 0, bytes(65_590))),
         # A payload of exactly the limit passes (16 bytes of fields and the data).
         ("send", ev.FileChunk(2, 0, bytes(MIN_FRAME_SIZE - 16))), ("send", ev.FileEnd(2))],
        # A frame limit above the smallest: a payload of exactly it passes, one byte more not.
        [("send", _HELLO), ("receive", ev.Hello(4, MIN_FRAME_SIZE + 100)),
         ("send", ev.Login("alice", "pw")), ("receive", _WELCOME),
         ("send", ev.FileOffer(1, "a", 70_000, _SHA)), ("receive", ev.FileAccepted(1)),
         ("send", ev.FileChunk(1, 0, bytes(MIN_FRAME_SIZE + 85))),
         ("send", ev.FileChunk(1, 0, bytes(MIN_FRAME_SIZE + 84)))],
        # A whole fetch from an offset, a refused one, a room list in pages, a search.
        [*login, ("receive", _WELCOME), ("send", ev.FetchFile(9, 2)),
         ("receive", ev.FileChunk(9, 2, b"cd")), ("receive", ev.FileEnd(9)),
         ("send", ev.FetchFile(9)), ("receive", ev.FetchRejected(9, "not-found")),
         ("send", ev.ListRooms(1)), ("receive", ev.RoomList(1, (ev.RoomInfo("dev", 2),), True)),
         ("receive", ev.RoomList(1, ())), ("send", ev.SearchHistory(2, "hi", 2)),
         ("receive", ev.SearchHit(2, 4, 1, "bob", "#dev", "hi")),
         ("receive", ev.SearchHit(2, 3, 1, "bob", None, "hi")),
         ("receive", ev.SearchHit(2, 2, 1, "bob", None, "hi"))],
        # A transient login's errand: its own message and file, then someone else's.
        [*login[:2], ("send", ev.TransientLogin("alice", "pw")), ("receive", _TRANSIENT_WELCOME),
         ("send", ev.SendChat("hi", None, 1)),
         ("receive", ev.ChatMessage(4, 1, 1, "alice", None, "hi")),
         *upload, ("receive", ev.ChatMessage(5, 1, 1, "bob", None, "hi"))],
        # Version 5: each accepted upload's ticket, once, even after all its bytes (they
        # cross); a second one breaks the rules.
        [("send", _HELLO_V5), ("receive", _HELLO_V5), ("send", ev.Login("alice", "pw")),
         ("receive", _WELCOME), ("send", ev.FileOffer(1, "a.txt", 6, _SHA)),
         ("receive", ev.FileAccepted(1)), ("receive", ev.UploadTicket(1, _TICKET_TOKEN, 60_000)),
         ("send", ev.FileOffer(2, "b.txt", 3, _SHA)), ("receive", ev.FileAccepted(2)),
         ("send", ev.FileChunk(2, 0, b"abc")), ("send", ev.FileEnd(2)),
         ("receive", ev.UploadTicket(2, _TICKET_TOKEN, 2**32 - 1)),
         ("receive", ev.UploadTicket(2, _TICKET_TOKEN, 1))],
        # Version 5, a ticket before its upload's FileAccepted.
        [("send", _HELLO_V5), ("receive", _HELLO_V5), ("send", ev.Login("alice", "pw")),
         ("receive", _WELCOME), ("send", ev.FileOffer(1, "a.txt", 6, _SHA)),
         ("receive", ev.UploadTicket(1, _TICKET_TOKEN, 60_000))],
        # Version 4 has no tickets.
        [*login, ("receive", _WELCOME), ("send", ev.FileOffer(1, "a.txt", 6, _SHA)),
         ("receive", ev.FileAccepted(1)), ("receive", ev.UploadTicket(1, _TICKET_TOKEN, 60_000))],
        # A listing: pages, then the server's Goodbye and a clean end.
        [*login, ("receive", ev.LoginAccepted("alice", False, True, 5, (ev.Participant("alice"),),
                                               9, False, 3)),
         ("send", ev.SendChat("early", "#dev")),
         ("receive", ev.ParticipantList((ev.Participant("b"),))),
         ("receive", ev.ParticipantList((ev.Participant("c"),))), ("receive", ev.Goodbye("bye")),
         ("close", None)],
    ]


def _scripted(script: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    conn = ClientConnection()
    steps = []
    for verb, what in script:
        if verb == "send":
            step = _send(conn, what)
        elif verb == "receive":
            step = _receive(conn, encode_event(what))
        else:
            step = _close(conn)
        step["after"] = _snapshot(conn)
        steps.append(step)
    return steps


def sequences(count: int = 200) -> list[list[dict[str, Any]]]:
    return [_scripted(script) for script in _scripts()] + draw(runs(), count)
