"""The seed corpus: valid conversations and every message type, encoded.

Seeds start the fuzzer on the paths real peers take, so mutations explore the
states behind a handshake instead of dying on the first byte. The frames come
from the test vectors of ``docs/protocol.md`` when that file is present, plus
events built here that cover every type in both directions.

    python fuzz/seeds.py DIR     # writes one file per seed into DIR
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

from harness import CODEC_MODE, FETCH_ID, SCENARIOS, SHA, UPLOAD_ID, UPLOAD_SIZE

from chatproto import encode_event
from chatproto import events as ev
from chatproto.limits import PROTOCOL_VERSION
from chatproto.wire import LAYOUTS

DOC = Path(__file__).resolve().parents[1] / "docs" / "protocol.md"
_MODE = {name: index for index, (name, _, _) in enumerate(SCENARIOS)}

ALICE, BOB = "alice", "개구리"
PARTICIPANTS = (ev.Participant(ALICE), ev.Participant(BOB, ev.ParticipantState.DEACTIVATED))

CLIENT_EVENTS: list[ev.Event] = [
    ev.Hello(PROTOCOL_VERSION, 1_048_576, "chat-cli"),
    ev.Login(ALICE, "correct horse", 3),
    ev.SendChat("hello \x1b[31m 안녕 \u202e", None, 1),
    ev.SendChat("private", BOB, 2),
    ev.FileOffer(UPLOAD_ID, "../../etc/passwd", UPLOAD_SIZE, SHA, None),
    ev.FileChunk(UPLOAD_ID, 0, b"x" * UPLOAD_SIZE),
    ev.FileEnd(UPLOAD_ID),
    ev.FetchFile(FETCH_ID, 0),
    ev.Ping(5),
    ev.Pong(6),
    ev.Goodbye("bye"),
    ev.Error("malformed", "oops"),
]
SERVER_EVENTS: list[ev.Event] = [
    ev.Hello(PROTOCOL_VERSION, 1_048_576, "chat-server"),
    ev.LoginRejected("bad-password", "wrong password"),
    ev.LoginAccepted(ALICE, True, False, 41, PARTICIPANTS),
    ev.ChatMessage(42, 1_700_000_000_000, 1, ALICE, None, "hello"),
    ev.ChatMessage(43, 1_700_000_000_001, 0, BOB, ALICE, "귓속말"),
    ev.ChatRejected(2, "rate-limited", "slow down"),
    ev.Presence(BOB, ev.PresenceState.DEACTIVATED, 2),
    ev.FileAccepted(UPLOAD_ID),
    ev.UploadTicket(UPLOAD_ID, SHA, 60_000),  # version 5: what a WebSocket gets
    ev.FileRejected(UPLOAD_ID, "storage-full", "disk full"),
    ev.FileAvailable(44, 1_700_000_000_002, 9, ALICE, None, "a.txt", UPLOAD_SIZE, SHA, UPLOAD_ID),
    ev.FileChunk(FETCH_ID, 0, b"file bytes"),
    ev.FileEnd(FETCH_ID),
    ev.FetchRejected(FETCH_ID, "not-found", "gone"),
    ev.Ping(7),
    ev.Pong(8),
    ev.Goodbye("shutting down"),
    ev.Error("timeout", "idle"),
]
#: The login of a script (protocol version 3): not in the conversations above,
#: where a Login is already pending, but a single frame and a codec seed.
TRANSIENT_LOGIN = ev.TransientLogin(ALICE, "correct horse")
#: A login whose participant list comes in pages: the first in LoginAccepted,
#: the rest in ParticipantList frames until they add up to the count.
PAGED_LOGIN: list[ev.Event] = [
    ev.LoginAccepted(ALICE, True, False, 41, PARTICIPANTS[:1], participant_count=2),
    ev.ParticipantList(PARTICIPANTS[1:]),
]
#: Rooms and search (version 4): the client's requests, valid in that order on an
#: active connection, and the server's answers and announcements.
ROOM_CLIENT_EVENTS: list[ev.Event] = [
    ev.CreateRoom(1, "dev", True),
    ev.JoinRoom(2, "개발"),
    ev.InviteToRoom(3, "dev", BOB),
    ev.ListRooms(4),
    ev.SearchHistory(5, "안녕 \"OR\" *", 20, 2**64 - 1, "dev", BOB),
    ev.SendChat("to the room", "#dev", 6),
    ev.FileOffer(UPLOAD_ID + 1, "plan.txt", UPLOAD_SIZE, SHA, "#dev"),
    ev.LeaveRoom(6, "dev"),
]
ROOM_SERVER_EVENTS: list[ev.Event] = [
    ev.RequestDone(1),
    ev.RequestRejected(2, "not-found", "no such room"),
    ev.RoomList(4, (ev.RoomInfo("general", 2, False, True), ev.RoomInfo("dev", 1, True, True))),
    ev.SearchHit(5, 42, 1_700_000_000_000, ALICE, "#dev", "안녕하세요"),
    ev.SearchDone(5, True),
    ev.Membership("dev", BOB, ev.MembershipState.JOINED, 2),
    ev.ChatMessage(45, 1_700_000_000_003, 6, ALICE, "#dev", "to the room"),
]


def _frames(events: list[ev.Event]) -> bytes:
    return b"".join(encode_event(event) for event in events)


def _doc_vectors() -> list[bytes]:
    """Frames of the ``docs/protocol.md`` vectors (their ``hex`` field)."""
    if not DOC.exists():
        return []
    found = re.findall(r"```json\n(.*?)\n```", DOC.read_text(encoding="utf-8"), re.S)
    frames = []
    for body in found:
        try:
            record = json.loads(body)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and isinstance(record.get("hex"), str):
            frames.append(bytes.fromhex(record["hex"].replace(" ", "")))
    return frames


def seeds() -> list[bytes]:
    """Every seed input for ``harness.run_one``."""
    out: list[bytes] = []
    paged = [SERVER_EVENTS[0], *PAGED_LOGIN, *SERVER_EVENTS[3:7]]
    conversations = [
        ("server-fresh", CLIENT_EVENTS),
        ("server-greeted", CLIENT_EVENTS[1:]),
        ("server-active", CLIENT_EVENTS[2:]),
        ("server-active", [*ROOM_CLIENT_EVENTS, *CLIENT_EVENTS[8:]]),
        ("server-uploading", CLIENT_EVENTS[5:]),
        ("client-fresh", [SERVER_EVENTS[0], SERVER_EVENTS[2], *SERVER_EVENTS[3:7]]),
        ("client-fresh", paged),
        ("client-authenticating", [*SERVER_EVENTS[1:7], *SERVER_EVENTS[13:]]),
        ("client-active", [*SERVER_EVENTS[3:7], ROOM_SERVER_EVENTS[-2], *SERVER_EVENTS[13:]]),
        ("client-transferring", [SERVER_EVENTS[i] for i in (7, 10, 11, 9, 13)]),
    ]
    for name, events in conversations:
        events = [event for event in events if not isinstance(event, ev.Error)]
        for flags in (0x00, 0x41, 0xC2):
            out.append(bytes((_MODE[name], flags)) + _frames(events))
    # Each single frame after each scenario: the fuzzer splices these.
    vectors = _doc_vectors()
    for name, mode in _MODE.items():
        pool = ([*CLIENT_EVENTS, TRANSIENT_LOGIN, *ROOM_CLIENT_EVENTS] if name.startswith("server")
                else SERVER_EVENTS + PAGED_LOGIN + ROOM_SERVER_EVENTS)
        for frame in [encode_event(event) for event in pool] + vectors:
            out.append(bytes((mode, 0x40)) + frame)
    # The codec target: one valid payload per message type.
    examples = {type(event): event
                for event in [*PAGED_LOGIN, *CLIENT_EVENTS, TRANSIENT_LOGIN, *SERVER_EVENTS,
                              *ROOM_CLIENT_EVENTS, *ROOM_SERVER_EVENTS]}
    for index, layout in enumerate(LAYOUTS):
        event = examples.get(layout.event_class)
        if event is not None:
            payload = encode_event(event)[5:]
            out.append(bytes((CODEC_MODE, index)) + payload)
    return out


def write_corpus(directory: Path) -> int:
    directory.mkdir(parents=True, exist_ok=True)
    written = 0
    for seed in seeds():
        path = directory / ("seed-" + hashlib.sha1(seed).hexdigest())
        if not path.exists():
            path.write_bytes(seed)
            written += 1
    return written


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python fuzz/seeds.py CORPUS_DIR")
    print(f"{write_corpus(Path(sys.argv[1]))} new seeds in {sys.argv[1]}")
